import { readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { MeshidError } from '../common/errors';
import { derToPem, pemToDerList } from '../identity/pem';
import type { UpstreamSuccessor } from './upstream-successor';
import { stageFile, writeFileAtomic } from '../common/atomic-file';
import { generateRoot, SELF_SIGNED_CERT_FILE, SELF_SIGNED_KEY_FILE } from './self-signed-upstream';

/**
 * How a root rotation of the self-signed upstream is kept on disk, so a restart at any point
 * serves a bundle every issued certificate still verifies against:
 * - prepare: the new root is written beside the active one as upstream-ca.next.{key,pem};
 * - switch: the old root's certificate is kept as upstream-ca.retired.pem (still trusted, never
 *   signs again), then the next pair replaces upstream-ca.{key,pem} (key first);
 * - drop: upstream-ca.retired.pem is removed.
 * At start, settleInterruptedRotation() finishes or undoes a rotation a crash interrupted.
 */
export const NEXT_CERT_FILE = 'upstream-ca.next.pem';
export const NEXT_KEY_FILE = 'upstream-ca.next.key';
export const RETIRED_CERT_FILE = 'upstream-ca.retired.pem';

const fail = (reason: string): MeshidError => new MeshidError('UPSTREAM', `upstream(self-signed): ${reason}`);

export async function prepareSelfSignedSuccessor(dataDir: string, trustDomain: string, now: Date): Promise<UpstreamSuccessor> {
  const files = filesIn(dataDir);
  // A compact creation time tells the roots apart in tools that show only the subject.
  const root = await generateRoot(trustDomain, now, ` ${now.toISOString().replace(/[-:]|\.\d+/g, '')}`);
  const certPem = derToPem('CERTIFICATE', root.upstream.signingCertificateDer);
  try {
    await writeFileAtomic(files.nextKey, root.keyPem, 0o600);
    await writeFileAtomic(files.nextCert, certPem, 0o644);
  } catch (error) {
    await removeIfPresent(files.nextKey, files.nextCert);
    throw fail(`cannot write the new root into ${dataDir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return {
    upstream: root.upstream,
    async onSwitched() {
      await writeFileAtomic(files.retired, await readFile(files.cert), 0o644);
      // Both staged before either is renamed: running out of space changes nothing.
      const key = await stageFile(files.key, root.keyPem, 0o600);
      const cert = await stageFile(files.cert, certPem, 0o644).catch(async (error: unknown) => {
        await key.discard();
        throw error;
      });
      await key.commit();
      await cert.commit();
      await removeIfPresent(files.nextKey, files.nextCert);
    },
    onCompleted: () => removeIfPresent(files.retired),
    discard: () => removeIfPresent(files.nextKey, files.nextCert),
  };
}

/**
 * Run before the active root is loaded. A crash between the key and certificate renames of a
 * switch leaves upstream-ca.key already new: the switch is finished. Any other leftover next
 * root belongs to a rotation that never switched (nothing chains to it): it is removed. A
 * retired root identical to the active one (crash before the switch's renames) is removed too.
 * Returns what was done, for the log.
 */
export async function settleInterruptedRotation(dataDir: string): Promise<string | undefined> {
  const files = filesIn(dataDir);
  const [nextKey, nextCert, key, cert, retired] = await Promise.all([files.nextKey, files.nextCert, files.key, files.cert, files.retired].map(readIfPresent));
  let done: string | undefined;
  if (nextKey !== undefined && nextCert !== undefined && key !== undefined && nextKey.equals(key)) {
    await rename(files.nextCert, files.cert);
    await removeIfPresent(files.nextKey);
    done = 'finished a root switch interrupted by a restart';
  } else if (nextKey !== undefined || nextCert !== undefined) {
    await removeIfPresent(files.nextKey, files.nextCert);
    done = 'removed the new root of a rotation interrupted before its switch; run `meshid ca rotate` again';
  }
  if (retired !== undefined && cert !== undefined && retired.equals(await readFile(files.cert))) await removeIfPresent(files.retired);
  return done;
}

/** The retired root is gone from the bundle: its file goes too. */
export function removeRetiredRoot(dataDir: string): Promise<void> {
  return removeIfPresent(filesIn(dataDir).retired);
}

/** The retired root's certificate, if a rotation had switched but not yet dropped it. */
export async function readRetiredRoot(dataDir: string): Promise<Buffer | undefined> {
  const pem = await readIfPresent(filesIn(dataDir).retired);
  return pem === undefined ? undefined : pemToDerList(pem.toString('utf8'), 'CERTIFICATE')[0];
}

function filesIn(dataDir: string) {
  return {
    key: path.join(dataDir, SELF_SIGNED_KEY_FILE),
    cert: path.join(dataDir, SELF_SIGNED_CERT_FILE),
    nextKey: path.join(dataDir, NEXT_KEY_FILE),
    nextCert: path.join(dataDir, NEXT_CERT_FILE),
    retired: path.join(dataDir, RETIRED_CERT_FILE),
  };
}

async function readIfPresent(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fail(`cannot read ${file}: ${(error as Error).message}`);
  }
}

async function removeIfPresent(...files: string[]): Promise<void> {
  for (const file of files) {
    await unlink(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}
