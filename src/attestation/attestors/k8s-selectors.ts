import type { WorkloadContainer } from './pod-list';

/**
 * k8s:<key>:<value> selectors of a container in its pod. The image is given three ways (the
 * spec's reference, the status's resolved reference and its digest), so an entry may pin any.
 */
export function k8sSelectors({ pod, status, spec }: WorkloadContainer, nodeName: string | undefined): string[] {
  const selectors: string[] = [];
  const add = (key: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') selectors.push(`k8s:${key}:${value}`);
  };
  add('ns', pod.metadata?.namespace);
  add('sa', pod.spec?.serviceAccountName);
  add('pod-name', pod.metadata?.name);
  add('pod-uid', pod.metadata?.uid);
  for (const [key, value] of Object.entries(pod.metadata?.labels ?? {})) add('pod-label', `${key}:${value}`);
  add('container-name', status.name);
  for (const image of new Set([spec?.image, status.image, status.imageID])) add('container-image', image);
  add('node-name', nodeName ?? pod.spec?.nodeName);
  return selectors;
}
