import { createPrivateKey, X509Certificate } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { MeshidError } from '../common/errors';
import { faultPoint } from '../common/fault-point';
import { derToPem, pemToDerList } from '../identity/pem';
import type { UpstreamSuccessor } from './upstream-successor';
import { writeFileAtomic } from '../common/atomic-file';
import { updateLeafTtls } from './root-leaf-ttl';
import { generateRoot, SELF_SIGNED_CERT_FILE, SELF_SIGNED_KEY_FILE } from './self-signed-upstream';

/**
 * How a root rotation of the self-signed upstream is kept on disk, so a restart after a kill at
 * any step serves a bundle that every certificate possibly in use still verifies against. Each
 * step is one atomic write, rename or unlink (each followed by a fault point):
 * - prepare: the new root is written beside the active one as upstream-ca.next.key, then .next.pem.
 *   Nothing is signed under it yet; a restart removes it (the rotation never switched).
 * - switching (before the new root signs anything): the new root's leaf lifetime is recorded
 *   (root-leaf-ttl.ts), then the active certificate is copied to upstream-ca.retired.pem. That
 *   copy, while it equals upstream-ca.pem beside a next root, is the commitment: from here on a
 *   restart finishes the switch rather than undoing it, and serves both roots.
 * - switched (the new root signs): upstream-ca.next.key is renamed over upstream-ca.key, then
 *   upstream-ca.next.pem over upstream-ca.pem.
 * - drop: upstream-ca.retired.pem is removed, once no leaf under it can still be valid.
 * At start, settleInterruptedRotation() finishes or undoes a rotation a kill interrupted.
 */
export const NEXT_CERT_FILE = 'upstream-ca.next.pem';
export const NEXT_KEY_FILE = 'upstream-ca.next.key';
export const RETIRED_CERT_FILE = 'upstream-ca.retired.pem';

const fail = (reason: string): MeshidError => new MeshidError('UPSTREAM', `upstream(self-signed): ${reason}`);

export async function prepareSelfSignedSuccessor(dataDir: string, trustDomain: string, now: Date, leafTtlMs?: number): Promise<UpstreamSuccessor> {
  const files = filesIn(dataDir);
  // A compact creation time tells the roots apart in tools that show only the subject.
  const root = await generateRoot(trustDomain, now, ` ${now.toISOString().replace(/[-:]|\.\d+/g, '')}`);
  const newRootDer = root.upstream.signingCertificateDer;
  const certPem = derToPem('CERTIFICATE', newRootDer);
  try {
    await writeFileAtomic(files.nextKey, root.keyPem, 0o600);
    faultPoint('rotation:next-key-written');
    await writeFileAtomic(files.nextCert, certPem, 0o644);
    faultPoint('rotation:next-cert-written');
  } catch (error) {
    await removeIfPresent(files.nextKey, files.nextCert);
    throw fail(`cannot write the new root into ${dataDir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let oldCert: Buffer | undefined;
  return {
    upstream: root.upstream,
    async onSwitching() {
      oldCert = await readFile(files.cert);
      const oldRootDer = pemToDerList(oldCert.toString('utf8'), 'CERTIFICATE')[0];
      if (leafTtlMs !== undefined) await updateLeafTtls(dataDir, { raise: [newRootDer], leafTtlMs, keep: oldRootDer ? [oldRootDer] : [] });
      await writeFileAtomic(files.retired, oldCert, 0o644);
      faultPoint('rotation:retired-written');
    },
    async onSwitched() {
      await renameDurably(files.nextKey, files.key);
      faultPoint('rotation:key-renamed');
      await renameDurably(files.nextCert, files.cert);
      faultPoint('rotation:cert-renamed');
    },
    onCompleted: () => removeRetiredRoot(dataDir),
    async discard() {
      // The commitment goes first: a kill in between leaves an uncommitted next root, removed at start.
      const retired = await readIfPresent(files.retired);
      const active = await readIfPresent(files.cert);
      if (retired && active && retired.equals(active)) await removeIfPresent(files.retired);
      await removeIfPresent(files.nextKey, files.nextCert);
    },
  };
}

/**
 * Run before the active root is loaded. Finishes a switch that was committed (retired copy of
 * the active certificate beside a next root): the next key and certificate are renamed into
 * place, whichever is left, so both roots are served. Removes a next root whose switch was never
 * committed (nothing was signed under it), and a retired copy identical to the active root.
 * Returns what was done, for the log.
 */
export async function settleInterruptedRotation(dataDir: string): Promise<string | undefined> {
  const files = filesIn(dataDir);
  const [nextKey, nextCert, cert, retired] = await Promise.all([files.nextKey, files.nextCert, files.cert, files.retired].map(readIfPresent));
  let done: string | undefined;
  const committed = nextCert !== undefined && retired !== undefined && cert !== undefined && retired.equals(cert);
  if (committed) {
    if (nextKey !== undefined) {
      await renameDurably(files.nextKey, files.key);
      faultPoint('rotation:key-renamed');
    } else if (!keyMatches(await readIfPresent(files.key), nextCert)) {
      throw fail(`${files.nextCert} is the root a rotation switched to, but neither ${files.nextKey} nor ${files.key} holds its key; restore the key, or move ${files.nextCert} away to keep the old root`);
    }
    await renameDurably(files.nextCert, files.cert);
    faultPoint('rotation:cert-renamed');
    done = 'finished a root switch interrupted by a restart; the retired root stays in the bundle until leaves under it have expired';
  } else {
    if (nextKey !== undefined || nextCert !== undefined) {
      await removeIfPresent(files.nextKey, files.nextCert);
      done = 'removed the new root of a rotation interrupted before its switch (nothing was signed under it); run `meshid ca rotate` again';
    }
    if (retired !== undefined && cert !== undefined && retired.equals(cert)) await removeIfPresent(files.retired);
  }
  return done;
}

/** The retired root is gone from the bundle: its file goes too. */
export async function removeRetiredRoot(dataDir: string): Promise<void> {
  await removeIfPresent(filesIn(dataDir).retired);
  faultPoint('rotation:retired-removed');
}

/** The retired root's certificate, if a rotation had switched but not yet dropped it. */
export async function readRetiredRoot(dataDir: string): Promise<Buffer | undefined> {
  const pem = await readIfPresent(filesIn(dataDir).retired);
  return pem === undefined ? undefined : pemToDerList(pem.toString('utf8'), 'CERTIFICATE')[0];
}

function keyMatches(keyPem: Buffer | undefined, certPem: Buffer): boolean {
  if (keyPem === undefined) return false;
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey({ key: keyPem, format: 'pem' }));
  } catch {
    return false;
  }
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

/** rename(2), then the directory fsynced so the rename itself survives a crash. */
async function renameDurably(from: string, to: string): Promise<void> {
  await rename(from, to);
  const directory = await open(path.dirname(to), 'r');
  try {
    await directory.sync();
  } catch {
    // Some file systems refuse fsync on a directory.
  } finally {
    await directory.close();
  }
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
