import type http2 from 'node:http2';
import type net from 'node:net';
import { systemClock, type Clock, type Timer } from '../common/clock';
import type { ConnectionLimits } from './connection-limits';

/** Why the agent closed a connection itself (meshid_connections_closed_total{reason}). */
export type CloseReason = 'preface_timeout' | 'idle_timeout' | 'unresponsive' | 'session_error' | 'goaway';

/**
 * How often a connection is probed with a PING, and how long its ACK may take.
 * Node's http2 (nghttp2 underneath) answers a connection error (DATA on stream 0, a bad SETTINGS
 * length, undecodable HPACK, an oversized frame) with GOAWAY and stops reading, but emits no
 * event and never closes the socket, although RFC 9113 §5.4.1 says "after sending the GOAWAY
 * frame for an error condition, the endpoint MUST close the TCP connection". Such a session can
 * only be recognised from outside: it never ACKs a PING, which a live peer MUST do
 * (RFC 9113 §6.7).
 *
 * Sessions with open streams are probed too, less often: the fuzz harness (test/fuzz) found
 * sessions where Node stopped reading the socket right after a request's HEADERS when the client
 * had already gone (a race with the server's first write), so grpc-js waited forever for the
 * request message, the stream stayed open, the peer's close was never read, and the socket and
 * the connector's pidfd leaked. A live client ACKs the PING whatever its streams are doing.
 */
export const PROBE_INTERVAL_MS = 2_000;
export const STREAM_PROBE_INTERVAL_MS = 10_000;
export const PROBE_TIMEOUT_MS = 5_000;

/**
 * Closes an injected connection when its HTTP/2 session has ended or is useless: a session error
 * or close, a GOAWAY from the peer once its streams are done (RFC 9113 §6.8: it opens no new
 * ones), no connection preface in time (RFC 9113 §3.4: magic + SETTINGS), no stream for
 * `idleTimeoutMs`, or an unanswered PING. Every timer runs on the injected clock except the probes
 * of sessions with open streams (see probeClock).
 */
export function guardSession(
  socket: net.Socket,
  session: http2.Http2Session,
  clock: Clock,
  limits: Pick<ConnectionLimits, 'prefaceTimeoutMs' | 'idleTimeoutMs'>,
  onClose: (reason: CloseReason) => void,
): void {
  let streams = 0;
  let goaway = false;
  let done = false;
  let preface: Timer | undefined;
  let idle: Timer | undefined;
  let probe: Timer | undefined;
  let deadline: Timer | undefined;
  const cancelAll = (): void => {
    for (const timer of [preface, idle, probe, deadline]) timer?.cancel();
    preface = idle = probe = deadline = undefined;
  };
  /** reason: why the agent closes it; none when the session ended on its own. */
  const close = (reason?: CloseReason): void => {
    if (done) return;
    done = true;
    cancelAll();
    if (reason) onClose(reason);
    // GOAWAY(NO_ERROR) is courtesy only; the socket is what must go (RFC 9113 §5.4.1).
    if (!session.destroyed) session.destroy();
    socket.destroy();
  };
  /**
   * Probes of a session with open streams run in real time, not on the injected clock: they only
   * catch a socket Node stopped reading, and an ACK that crosses a real socket must not be
   * outrun by a test that advances a fake clock by an hour while streams are open.
   */
  const probeClock = (): Clock => (streams > 0 ? systemClock : clock);
  const sendProbe = (timing: Clock): void => {
    probe = undefined;
    if (done) return;
    deadline = timing.setTimer(PROBE_TIMEOUT_MS, () => close('unresponsive'));
    let sent: boolean;
    try {
      sent = session.ping((error) => {
        deadline?.cancel();
        deadline = undefined;
        if (error) close('session_error');
        else armProbe();
      });
    } catch {
      sent = false;
    }
    if (!sent) close('session_error');
  };
  const armProbe = (): void => {
    if (done || probe || deadline) return;
    const timing = probeClock();
    probe = timing.setTimer(streams > 0 ? STREAM_PROBE_INTERVAL_MS : PROBE_INTERVAL_MS, () => sendProbe(timing));
  };
  const becameStreamless = (): void => {
    if (goaway) return close('goaway');
    idle = clock.setTimer(limits.idleTimeoutMs, () => close('idle_timeout'));
    // A probe armed at the streams' interval is brought forward to the streamless one.
    probe?.cancel();
    probe = undefined;
    armProbe();
  };

  preface = clock.setTimer(limits.prefaceTimeoutMs, () => close('preface_timeout'));
  session.once('remoteSettings', () => {
    preface?.cancel();
    preface = undefined;
    if (streams === 0) becameStreamless();
    else armProbe();
  });
  session.on('stream', (stream: http2.ServerHttp2Stream) => {
    streams++;
    idle?.cancel();
    idle = undefined;
    if (streams === 1) {
      // The streamless probe ran on the injected clock; from now on the probe runs in real time.
      probe?.cancel();
      deadline?.cancel();
      probe = deadline = undefined;
      armProbe();
    }
    stream.once('close', () => {
      streams--;
      if (streams === 0 && !done) becameStreamless();
    });
  });
  session.once('goaway', () => {
    goaway = true;
    if (streams === 0) close('goaway');
  });
  session.once('error', () => close('session_error'));
  session.once('close', () => close());
  socket.once('close', () => {
    done = true;
    cancelAll();
  });
}
