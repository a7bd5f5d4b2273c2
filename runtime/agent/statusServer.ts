// The agent's own HTTP endpoint (--listen, kube-proxy's 0.0.0.0:10256):
// /healthz and /readyz answer 200 or 503 with {"ok","reason"} as JSON;
// /metrics is the Prometheus text exposition. Anything else is 404.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Verdict } from './health.ts';
import { CONTENT_TYPE } from './prometheus.ts';

export interface ListenAddress { host: string; port: number }

/** "0.0.0.0:10256", "127.0.0.1:0", "[::]:10256", ":10256" (all addresses); throws on anything else. */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`--listen must be HOST:PORT (such as 0.0.0.0:10256 or 127.0.0.1:0), not "${text}"`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export interface StatusHandlers {
  healthz(): Verdict;
  readyz(): Verdict;
  metrics(): string;
}

export interface Listening {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/** Starts a server on at; resolves once it listens (rejects with the reason, EADDRINUSE say). */
export function listen(at: ListenAddress, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<Listening> {
  const server: Server = createServer(handle);
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`listen on ${at.host}:${at.port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    server.listen(at.port, at.host, () => {
      server.removeAllListeners('error');
      server.on('error', () => {}); // after listening, errors belong to single connections
      resolve({
        address: server.address() as AddressInfo,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}

export function serveStatus(at: ListenAddress, h: StatusHandlers): Promise<Listening> {
  return listen(at, (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'only GET\n');
    if (path === '/healthz' || path === '/readyz') {
      const v = path === '/healthz' ? h.healthz() : h.readyz();
      return send(res, v.ok ? 200 : 503, 'application/json', `${JSON.stringify(v)}\n`);
    }
    if (path === '/metrics') return send(res, 200, CONTENT_TYPE, h.metrics());
    send(res, 404, 'text/plain', 'not found: /healthz, /readyz and /metrics are served here\n');
  });
}

export function send(res: ServerResponse, status: number, type: string, body: string, headers: { [k: string]: string } = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(body);
}
