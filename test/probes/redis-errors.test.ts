// The error column of samples.csv is how a user tells "nothing listening" from "frozen" from
// "reloading": each ioredis failure must land in the right class.
import { expect, it } from 'vitest';
import { ReplyError } from 'ioredis';
import { classifyRedisError } from '../../src/probes/redis-probe.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

it('classifies ioredis failures by what happened to the request', () => {
  expect(classifyRedisError(new Error('Command timed out'))).toBe('timeout');
  expect(classifyRedisError(withCode('connect ETIMEDOUT', 'ETIMEDOUT'))).toBe('timeout');
  expect(classifyRedisError(withCode('connect ECONNREFUSED 198.18.0.1:30000', 'ECONNREFUSED'))).toBe('refused');
  expect(classifyRedisError(withCode('connect EHOSTUNREACH 198.18.0.12:6379', 'EHOSTUNREACH'))).toBe('unreachable');
  expect(classifyRedisError(withCode('read ECONNRESET', 'ECONNRESET'))).toBe('reset');
  expect(classifyRedisError(new Error('Connection is closed.'))).toBe('reset');
  expect(classifyRedisError(new Error('Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details.'))).toBe(
    'reset',
  );
  expect(classifyRedisError(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe('disconnected');
  expect(classifyRedisError(new ReplyError('LOADING Redis is loading the dataset in memory'))).toBe('server_error');
  expect(classifyRedisError(new Error('Protocol error, got "\\u0000" as reply type byte. Please report this.'))).toBe('wrong_reply');
  expect(classifyRedisError(new Error('Unknown RESP type 0 " ". Please report this.'))).toBe('wrong_reply');
  expect(classifyRedisError(new Error('something new'))).toBe('other');
});
