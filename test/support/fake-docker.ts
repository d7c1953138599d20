import http from 'node:http';
import path from 'node:path';

export interface ContainerFixture {
  readonly id: string;
  readonly name: string;
  /** Config.Image, the reference the container was created from. */
  readonly image: string;
  /** Image: the image ID (sha256:<hex>). */
  readonly imageId: string;
  readonly labels?: Record<string, string>;
  readonly env?: readonly string[];
}

/** A ContainerInspectResponse as the Docker Engine API returns it (the fields a client may read). */
export function inspectResponse(container: ContainerFixture): object {
  return {
    Id: container.id,
    Created: '2026-01-01T00:00:00.000000000Z',
    Path: '/docker-entrypoint.sh',
    Args: ['nginx', '-g', 'daemon off;'],
    State: { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 4321, ExitCode: 0, Error: '', StartedAt: '2026-01-01T00:00:01.000000000Z', FinishedAt: '0001-01-01T00:00:00Z' },
    Image: container.imageId,
    Name: `/${container.name}`,
    RestartCount: 0,
    Driver: 'overlay2',
    Platform: 'linux',
    HostConfig: { NetworkMode: 'bridge', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } },
    Config: {
      Hostname: container.id.slice(0, 12),
      User: '',
      Env: container.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['nginx', '-g', 'daemon off;'],
      Image: container.image,
      WorkingDir: '',
      Entrypoint: ['/docker-entrypoint.sh'],
      Labels: container.labels ?? {},
    },
    NetworkSettings: { IPAddress: '172.17.0.2', Networks: { bridge: { IPAddress: '172.17.0.2', Gateway: '172.17.0.1' } } },
    Mounts: [],
  };
}

export interface FakeDocker {
  readonly socketPath: string;
  /** Paths of every request, in order. */
  readonly requests: string[];
  /** Makes the next answers HTTP `status` with the engine's error body, until reset with 0. */
  failWith(status: number): void;
  close(): Promise<void>;
}

/**
 * The Docker Engine API on a unix socket, as far as inspecting a container goes:
 * GET [/v1.NN]/containers/{id}/json → 200 ContainerInspectResponse, or 404 {"message": …}.
 */
export async function startFakeDocker(dir: string, containers: readonly ContainerFixture[]): Promise<FakeDocker> {
  const socketPath = path.join(dir, 'docker.sock');
  const requests: string[] = [];
  let failure = 0;
  const server = http.createServer((request, response) => {
    requests.push(request.url ?? '');
    const send = (status: number, body: object): void => void response.writeHead(status, { 'content-type': 'application/json', 'api-version': '1.45' }).end(JSON.stringify(body));
    const match = /^(?:\/v1\.\d+)?\/containers\/([^/]+)\/json$/.exec(request.url ?? '');
    if (request.method !== 'GET' || !match) return send(404, { message: 'page not found' });
    if (failure !== 0) return send(failure, { message: 'Error response from daemon: storage driver unavailable' });
    const container = containers.find((candidate) => candidate.id === match[1] || candidate.name === match[1]);
    if (!container) return send(404, { message: `No such container: ${match[1]}` });
    send(200, inspectResponse(container));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    requests,
    failWith: (status) => {
      failure = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
