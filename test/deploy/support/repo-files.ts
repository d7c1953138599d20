import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';

/** The repository root (this file compiles to dist/test/deploy/support/). */
export const REPO = path.join(__dirname, '..', '..', '..', '..');
export const KUBERNETES_DIR = path.join(REPO, 'deploy', 'kubernetes');

export function repoFile(relative: string): string {
  return readFileSync(path.join(REPO, relative), 'utf8');
}

/** One Kubernetes object as written, with the file it came from. */
export interface Manifest {
  readonly file: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

/**
 * Parses YAML the way Kubernetes does: its decoder (sigs.k8s.io/yaml over go-yaml) follows
 * YAML 1.1, where `mode: 0400` is octal 256, as kubectl means it. Parse errors and warnings throw.
 */
export function parseKubernetesYaml(text: string, file: string): unknown[] {
  return parseAllDocuments(text, { version: '1.1', prettyErrors: true }).flatMap((document) => {
    const issues = [...document.errors, ...document.warnings];
    if (issues.length > 0) throw new Error(`${file}: ${issues.map((issue) => issue.message).join('\n')}`);
    const value: unknown = document.toJS();
    return value === null ? [] : [value];
  });
}

/** Every object of every *.yaml file in deploy/kubernetes except the kustomization. */
export function kubernetesManifests(): Manifest[] {
  return yamlFilesIn(KUBERNETES_DIR)
    .filter((file) => file !== 'kustomization.yaml')
    .flatMap((file) => parseKubernetesYaml(readFileSync(path.join(KUBERNETES_DIR, file), 'utf8'), file).map((object) => ({ ...(object as object), file }) as Manifest));
}

export function yamlFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort();
}

/** The one manifest of that kind and name; fails loudly when absent or ambiguous. */
export function only(manifests: readonly Manifest[], kind: string, name: string): Manifest {
  const found = manifests.filter((manifest) => manifest.kind === kind && manifest.metadata?.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} named ${name}, found ${found.length}`);
  return found[0] as Manifest;
}

/** A YAML document embedded as a string (a ConfigMap value), parsed as the program reading it would. */
export function parseEmbeddedYaml(text: string, where: string): unknown {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) throw new Error(`${where}: ${document.errors.map((error) => error.message).join('\n')}`);
  return document.toJS();
}
