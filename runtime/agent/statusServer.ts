// The agent's own HTTP endpoints, as kube-proxy splits them: health on
// --healthz-bind-address (0.0.0.0:10256: load balancers and the kubelet
// probe it from outside the node) with /livez, /healthz and /readyz, which
// answer 200 or 503 with {"ok","reason"} as JSON; and the Prometheus text
// exposition on --metrics-bind-address (127.0.0.1:10249: only this node
// reads it unless an operator opens it). The older --listen serves all of
// them on one address. Anything else is 404.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { http } from '../sources/nodeHttp.ts';
import type { Verdict } from './health.ts';

export interface ListenAddress { host: string; port: number }

/** "0.0.0.0:10256", "127.0.0.1:0", "[::]:10256", ":10256" (all addresses); throws on anything else. */
export function parseListen(text: string, flag = '--listen'): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`${flag} must be HOST:PORT (such as 0.0.0.0:10256 or 127.0.0.1:0), not "${text}"`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export interface Reply { status: number; type: string; body: string }
/** What one path answers. */
export type Route = () => Reply | Promise<Reply>;

export const verdictRoute = (verdict: () => Verdict): Route => () => {
  const v = verdict();
  return { status: v.ok ? 200 : 503, type: 'application/json', body: `${JSON.stringify(v)}\n` };
};

export const metricsRoute = (registry: { contentType: string; metrics(): Promise<string> }): Route => async () =>
  ({ status: 200, type: registry.contentType, body: await registry.metrics() });

export interface Listening {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/** Starts a server on at; resolves once it listens (rejects with the reason, EADDRINUSE say). */
export function listen(at: ListenAddress, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<Listening> {
  const server: Server = http.createServer(handle);
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

/** Serves routes by path (GET and HEAD) on at. */
export function serveRoutes(at: ListenAddress, routes: { readonly [path: string]: Route }): Promise<Listening> {
  const paths = Object.keys(routes);
  return listen(at, (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'only GET\n');
    if (!Object.hasOwn(routes, path)) return send(res, 404, 'text/plain', `not found: ${paths.join(', ')} are served here\n`);
    Promise.resolve(routes[path]()).then(
      (r) => send(res, r.status, r.type, r.body),
      (e) => send(res, 500, 'text/plain', `${(e as Error).message}\n`),
    );
  });
}

export function send(res: ServerResponse, status: number, type: string, body: string, headers: { [k: string]: string } = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(body);
}
