// The pods' root filesystem: the host's own programs, read-only. Rather than the host's "/" itself,
// whose submounts (/proc, /sys, /run, /work, ...) CRIU would have to account for one by one, the root
// is a skeleton directory whose top level mirrors the host's: symbolic links stay links (merged /usr:
// bin -> usr/bin), and the directories that hold programs and libraries are bind-mounted read-only.
import { lstatSync, readdirSync, readlinkSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { ROOTFS_DIR } from './names.ts';

/** Host directories bind-mounted into every pod (read-only) when they are real directories. */
const PROGRAM_DIRS = ['usr', 'etc', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'opt'];
/** Mount points every pod needs inside its root. */
const MOUNT_POINTS = ['proc', 'dev', 'sys', 'tmp', 'run', 'var', 'data'];

export interface Rootfs {
  path: string;
  binds: { source: string; destination: string; readonly: boolean }[];
}

export function prepareRootfs(hostRoot = '/', path = ROOTFS_DIR): Rootfs {
  mkdirSync(path, { recursive: true });
  const binds: Rootfs['binds'] = [];
  for (const entry of readdirSync(hostRoot)) {
    const hostPath = `${hostRoot === '/' ? '' : hostRoot}/${entry}`;
    const stat = lstatSync(hostPath);
    const target = `${path}/${entry}`;
    if (stat.isSymbolicLink() && PROGRAM_DIRS.includes(entry)) {
      if (!existsSync(target) && !lstatSafe(target)) symlinkSync(readlinkSync(hostPath), target);
    } else if (stat.isDirectory() && PROGRAM_DIRS.includes(entry)) {
      mkdirSync(target, { recursive: true });
      binds.push({ source: hostPath, destination: `/${entry}`, readonly: true });
    }
  }
  for (const dir of MOUNT_POINTS) mkdirSync(`${path}/${dir}`, { recursive: true });
  return { path, binds };
}

function lstatSafe(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
