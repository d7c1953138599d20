/**
 * A reader process for the pair test: reads keyFile then certFile through the documented paths
 * in a tight loop, as a program loading its TLS pair would, until the parent sends "stop"; then
 * reports its counts. Each read also notes the `..data` link before and after, which is how a
 * reader can tell that a whole rotation landed between its two opens.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile, readlink } from 'node:fs/promises';
import path from 'node:path';

export interface PairReaderCounts {
  reads: number;
  /** ..data the same before and after: key and cert opened through one set. */
  stableMatched: number;
  stableMismatched: number;
  /** ..data moved during the read: a rotation landed between the two opens. */
  movedMatched: number;
  movedMismatched: number;
  errors: string[];
}

const [keyFile, certFile] = process.argv.slice(2) as [string, string];
const dataLink = path.join(path.dirname(keyFile), '..data');
const counts: PairReaderCounts = { reads: 0, stableMatched: 0, stableMismatched: 0, movedMatched: 0, movedMismatched: 0, errors: [] };
let stopping = false;
process.on('message', (message) => {
  if (message === 'stop') stopping = true;
});

async function loop(): Promise<void> {
  process.send?.('ready');
  while (!stopping) {
    try {
      const before = await readlink(dataLink);
      const key = await readFile(keyFile);
      const cert = await readFile(certFile);
      const afterRead = await readlink(dataLink);
      const matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
      counts.reads++;
      if (before === afterRead) counts[matches ? 'stableMatched' : 'stableMismatched']++;
      else counts[matches ? 'movedMatched' : 'movedMismatched']++;
    } catch (error) {
      if (counts.errors.length < 10) counts.errors.push(String(error));
    }
  }
  process.send?.(counts, () => process.exit(0));
}

void loop();
