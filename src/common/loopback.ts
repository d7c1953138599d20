import { isIP } from 'node:net';

/**
 * A host name or address that only reaches this machine: "localhost", 127.0.0.0/8, ::1, or
 * an IPv4-mapped 127.x. Brackets around IPv6 addresses are accepted.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
  if (name === 'localhost') return true;
  if (isIP(name) === 0) return false;
  return name === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}
