import path from 'node:path';
import type { FileTargetConfig } from './file-target-config';

type TargetPaths = Pick<FileTargetConfig, 'certFile' | 'keyFile' | 'bundleFile' | 'pkcs12File'>;

/**
 * The directory of a target's set: certFile, keyFile and bundleFile live there side by side,
 * switched together by one `..data` symlink swap (src/files/atomic-dir-writer.ts).
 */
export const targetDirectory = (target: TargetPaths): string => path.dirname(target.certFile);

/** Whether pkcs12File is part of the set (same directory) rather than a file written on its own. */
export const pkcs12InSet = (target: TargetPaths): boolean => target.pkcs12File !== undefined && path.dirname(target.pkcs12File) === targetDirectory(target);

/**
 * What the on-disk layout requires of the `files:` targets (paths already resolved), as
 * `files[i].key: message` lines: chain, key and bundle of a target in one directory, one target
 * per directory, and no file named like the layout's own `..` entries. pkcs12File may live
 * elsewhere: a keystore holds key and chain in one file, so it is replaced on its own.
 * Entries left undefined (targets the schema already rejected) keep the indices of the others.
 * FileTargets.replace runs it (start: exit 2; reload: refused); the config's cross-field rules
 * can run it too, so `config check` reports the same lines.
 */
export function fileTargetLayoutProblems(targets: readonly (TargetPaths | undefined)[]): string[] {
  const problems: string[] = [];
  const owners = new Map<string, number>();
  targets.forEach((target, index) => {
    if (target === undefined) return; // invalid on its own: reported by the schema
    const where = `files[${index}]`;
    const dir = targetDirectory(target);
    for (const key of ['keyFile', 'bundleFile'] as const) {
      const file = target[key];
      if (file !== undefined && path.dirname(file) !== dir) {
        problems.push(`${where}.${key}: "${file}" is not in the directory of certFile (${dir}); a target's certFile, keyFile and bundleFile must share one directory, which meshid switches to each new set at once through a "..data" symlink`);
      }
    }
    for (const key of ['certFile', 'keyFile', 'bundleFile', 'pkcs12File'] as const) {
      const file = target[key];
      if (file !== undefined && path.basename(file).startsWith('..')) problems.push(`${where}.${key}: "${file}": names starting with ".." are meshid's own layout (..data and the timestamped directories)`);
    }
    const earlier = owners.get(dir);
    if (earlier !== undefined) problems.push(`${where}.certFile: the directory ${dir} already holds files[${earlier}]; each target needs a directory of its own (one "..data" link per directory)`);
    else owners.set(dir, index);
  });
  return problems;
}
