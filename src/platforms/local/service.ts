// A service: one stable address:port on the host (the bridge address, like a NodePort on the node's
// address) that kernel NAT rules send to the current pod — what kube-proxy does in iptables mode.
// No userspace proxy sits in the data path, where it would be part of what is measured.
//
// nat/OUTPUT (host clients) and nat/PREROUTING (clients in other namespaces) jump to MIGBENCH-SERVICES,
// which matches the service address and jumps to the service's own chain; that chain holds one DNAT
// rule to the endpoint. Switching replaces that one rule (`iptables -R`, atomic). With no endpoint the
// rule's target is the service address itself, so nothing is rewritten; a filter rule (MIGBENCH-REJECT,
// in OUTPUT and INPUT, which see addresses after NAT) then answers with a TCP reset, as kube-proxy's REJECT does
// for a service without endpoints — so a host process that happens to listen on the port can never
// answer in the pod's place. Established connections keep the endpoint conntrack gave them, as
// under kube-proxy.
import { exec, run } from '../../system/exec.ts';
import type { Endpoint } from '../../model/endpoint.ts';
import { REJECT_CHAIN, SERVICES_CHAIN, SERVICE_CHAIN_PREFIX } from './names.ts';

const NAT_HOOKS = ['OUTPUT', 'PREROUTING'] as const;
const FILTER_HOOKS = ['OUTPUT', 'INPUT'] as const;

export class ServiceRules {
  private readonly iptables: string;
  /**
   * Service chains known to hold their one DNAT rule: a switch is then one `iptables -R` instead of
   * listing the chain first (each iptables process costs 10–40 ms on a busy 2-core host, and the
   * switch is part of every downtime: anat_switch_ms).
   */
  private readonly chainsWithRule = new Set<string>();
  constructor(iptables: string) {
    this.iptables = iptables;
  }

  private ipt(args: string[], table = 'nat'): Promise<string> {
    return run(this.iptables, ['-w', '5', '-t', table, ...args]);
  }

  private async succeeds(args: string[], table = 'nat'): Promise<boolean> {
    return (await exec(this.iptables, ['-w', '5', '-t', table, ...args], { allowFailure: true })).exitCode === 0;
  }

  async ensureBaseChains(): Promise<void> {
    for (const [table, chain, hooks] of [
      ['nat', SERVICES_CHAIN, NAT_HOOKS],
      ['filter', REJECT_CHAIN, FILTER_HOOKS],
    ] as const) {
      if (!(await this.succeeds(['-n', '-L', chain], table))) await this.ipt(['-N', chain], table);
      for (const hook of hooks) {
        if (!(await this.succeeds(['-C', hook, '-j', chain], table))) await this.ipt(['-I', hook, '1', '-j', chain], table);
      }
    }
  }

  chainFor(address: Endpoint): string {
    return `${SERVICE_CHAIN_PREFIX}${address.port}`;
  }

  async create(address: Endpoint, comment: string): Promise<void> {
    const chain = this.chainFor(address);
    await this.remove(address);
    await this.ipt(['-N', chain]);
    await this.ipt(['-A', SERVICES_CHAIN, ...this.match(address), '-m', 'comment', '--comment', `migbench ${comment}`, '-j', chain]);
    await this.ipt(
      ['-A', REJECT_CHAIN, ...this.match(address), '-m', 'comment', '--comment', `migbench ${comment}`, '-j', 'REJECT', '--reject-with', 'tcp-reset'],
      'filter',
    );
  }

  async setEndpoint(address: Endpoint, target: Endpoint | null): Promise<void> {
    const chain = this.chainFor(address);
    // No endpoint: new connections are sent to the service address itself, where MIGBENCH-REJECT
    // answers them with a reset. Not an empty chain: measured on kernel 6.18 with iptables-nft, an
    // emptied chain also cuts the connections already established to the old pod (their packets
    // stop flowing at once and the client only notices by timeout), whereas under kube-proxy they go
    // on until the terminating pod closes them — e.g. a video stream gets its EOF at SIGTERM.
    const to = target ?? address;
    const rule = ['-p', 'tcp', '-j', 'DNAT', '--to-destination', `${to.host}:${to.port}`];
    if (this.chainsWithRule.has(chain)) {
      if (await this.succeeds(['-R', chain, '1', ...rule])) return;
      this.chainsWithRule.delete(chain); // changed behind our back: look, as below
    }
    const hasRule = (await this.ipt(['-S', chain])).split('\n').some((l) => l.startsWith(`-A ${chain} `));
    await this.ipt(hasRule ? ['-R', chain, '1', ...rule] : ['-A', chain, ...rule]);
    this.chainsWithRule.add(chain);
  }

  async remove(address: Endpoint): Promise<void> {
    const chain = this.chainFor(address);
    this.chainsWithRule.delete(chain);
    const dport = `--dport ${address.port} `;
    for (const [table, base] of [
      ['nat', SERVICES_CHAIN],
      ['filter', REJECT_CHAIN],
    ] as const) {
      const rules = await this.ipt(['-S', base], table).catch(() => '');
      for (const line of rules.split('\n')) {
        if (line.startsWith(`-A ${base} `) && line.includes(dport)) {
          await exec(this.iptables, ['-w', '5', '-t', table, '-D', ...splitRule(line.slice(3))], { allowFailure: true });
        }
      }
    }
    if (await this.succeeds(['-n', '-L', chain])) {
      await this.ipt(['-F', chain]);
      await this.ipt(['-X', chain]);
    }
  }

  private match(address: Endpoint): string[] {
    return ['-d', `${address.host}/32`, '-p', 'tcp', '-m', 'tcp', '--dport', String(address.port)];
  }
}

/** Removes every migbench chain and the jumps to it (cleanup after a crash). */
export async function removeAllServiceRules(iptables: string): Promise<string[]> {
  const removed: string[] = [];
  for (const [table, base, hooks] of [
    ['nat', SERVICES_CHAIN, NAT_HOOKS],
    ['filter', REJECT_CHAIN, FILTER_HOOKS],
  ] as const) {
    const ipt = (args: string[]) => exec(iptables, ['-w', '5', '-t', table, ...args], { allowFailure: true });
    for (const hook of hooks) {
      while ((await ipt(['-C', hook, '-j', base])).exitCode === 0) {
        await ipt(['-D', hook, '-j', base]);
        removed.push(`iptables ${table} ${hook} -j ${base}`);
      }
    }
    const chains = (await ipt(['-S'])).stdout
      .split('\n')
      .filter((l) => l.startsWith('-N MIGBENCH-'))
      .map((l) => l.slice(3).trim());
    for (const chain of chains) await ipt(['-F', chain]);
    for (const chain of chains) {
      await ipt(['-X', chain]);
      removed.push(`iptables ${table} chain ${chain}`);
    }
  }
  return removed;
}

/** Splits an `iptables -S` rule back into arguments, keeping quoted comments whole. */
function splitRule(rule: string): string[] {
  const args: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(rule); m; m = re.exec(rule)) args.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? ''));
  return args;
}
