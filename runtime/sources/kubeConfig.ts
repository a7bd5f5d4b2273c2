// Where the API server is and how to authenticate to it: a kubeconfig file,
// else the in-cluster config. client-node's KubeConfig does this for every
// form, but loading it loads client-node's whole generated API (about 1,000
// modules: 0.25 s of CPU and 70 MiB at every agent start, most of what a
// full sync is allowed). So the forms an agent meets are read here: the
// service account (in-cluster), and kubeconfig users with a token or a
// client certificate; anything else (exec and auth-provider plugins, token
// files, basic auth, impersonation, a proxy) goes to client-node's
// KubeConfig, loaded only then. Both answer the same two calls, which are
// all the lists and watches ask of a config. kubeConfig.test.ts holds the two
// to the same headers and TLS options.
import { readFileSync } from 'node:fs';
import type { Agent as HttpAgent, RequestOptions } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIPv6 } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import yaml from 'js-yaml';
import { http } from './nodeHttp.ts';

/** What the source needs of a config: client-node's KubeConfig has both, and so does ours. */
export interface ApiAccess {
  getCurrentCluster(): { name: string; server: string } | null;
  /** Sets a request's Authorization (and any other) headers, its TLS options and its agent. */
  applyToHTTPSOptions(options: RequestOptions): Promise<void>;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A token file is read again after this long: service account tokens are rotated (client-node's FileAuth does the same). */
const TOKEN_FILE_MAX_AGE_MS = 60_000;

type Obj = { [k: string]: unknown };

/** The TLS and auth settings of one cluster and user, as a kubeconfig gives them. */
export interface Credentials {
  server: string;
  clusterName: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** insecure-skip-tls-verify */
  skipTLSVerify: boolean;
  servername?: string;
  token?: string;
  /** Re-read once a minute: the service account's, in-cluster. */
  tokenFile?: string;
}

/**
 * A kubeconfig file; without one, the in-cluster config (service account
 * token and CA, KUBERNETES_SERVICE_HOST/PORT). Errors say which and why.
 */
export async function loadKubeConfig(path?: string): Promise<ApiAccess> {
  if (path === undefined) return new ApiCredentials(inCluster());
  let doc: unknown;
  try {
    doc = yaml.load(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`kubeconfig ${path}: ${(e as Error).message}`, { cause: e });
  }
  const lean = credentialsOf(doc, dirname(path), path);
  if (lean) return new ApiCredentials(lean);
  const { KubeConfig } = await import('@kubernetes/client-node/dist/config.js'); // plugins and the rest: client-node's own
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (e) {
    throw new Error(`kubeconfig ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!kc.getCurrentCluster()) throw new Error(`kubeconfig ${path}: the current context "${kc.getCurrentContext()}" names no cluster`);
  return kc;
}

function inCluster(): Credentials {
  const host = process.env.KUBERNETES_SERVICE_HOST, port = process.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new Error('no kubeconfig given and not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset): pass a kubeconfig file');
  }
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https'; // as client-node's loadFromCluster
  return {
    server: `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`, clusterName: 'inCluster',
    ca: readIfThere(`${SERVICE_ACCOUNT}/ca.crt`), skipTLSVerify: false, tokenFile: `${SERVICE_ACCOUNT}/token`,
  };
}

function readIfThere(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined; // client-node fails later, at the request; so does this
  }
}

const USER_KEYS = new Set(['token', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data']);
const CLUSTER_KEYS = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name']);

/**
 * The current context's cluster and user when every field they set is one
 * read here; undefined when client-node must read the file. Throws for a
 * file that names no cluster.
 */
export function credentialsOf(doc: unknown, root: string, path: string): Credentials | undefined {
  const d = (isObj(doc) ? doc : {}) as Obj;
  const named = (list: unknown, name: unknown, field: string): Obj | undefined => {
    const entry = Array.isArray(list) ? list.find((e) => isObj(e) && e.name === name) : undefined;
    return isObj(entry) && isObj(entry[field]) ? (entry[field] as Obj) : undefined;
  };
  const current = d['current-context'];
  const context = named(d.contexts, current, 'context');
  const cluster = context && named(d.clusters, context.cluster, 'cluster');
  if (!cluster || typeof cluster.server !== 'string' || cluster.server === '') {
    throw new Error(`kubeconfig ${path}: the current context "${String(current ?? '')}" names no cluster`);
  }
  const user = (context.user === undefined ? {} : named(d.users, context.user, 'user')) ?? {};
  if (!Object.keys(user).every((k) => USER_KEYS.has(k)) || !Object.keys(cluster).every((k) => CLUSTER_KEYS.has(k))) return undefined;
  const bytes = (file: unknown, data: unknown) => {
    if (typeof file === 'string' && file !== '') return readFileSync(isAbsolute(file) ? file : join(root, file));
    return typeof data === 'string' && data !== '' ? Buffer.from(data, 'base64') : undefined;
  };
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    server: cluster.server.replace(/\/$/, ''), clusterName: String(context.cluster),
    ca: bytes(cluster['certificate-authority'], cluster['certificate-authority-data']),
    cert: bytes(user['client-certificate'], user['client-certificate-data']),
    key: bytes(user['client-key'], user['client-key-data']),
    skipTLSVerify: cluster['insecure-skip-tls-verify'] === true, servername: str(cluster['tls-server-name']),
    token: str(user.token),
  };
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Credentials as an ApiAccess: a bearer token (a token file re-read once a minute), TLS and connections by one Agent. */
export class ApiCredentials implements ApiAccess {
  readonly credentials: Credentials;
  #agent: HttpAgent | undefined;
  #token: { value: string; at: number } | undefined;

  constructor(credentials: Credentials) {
    if (credentials.server.startsWith('http:') && !credentials.skipTLSVerify) {
      throw new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false'); // client-node's rule, kept
    }
    this.credentials = credentials;
  }

  getCurrentCluster(): { name: string; server: string } {
    return { name: this.credentials.clusterName, server: this.credentials.server };
  }

  /** The TLS options of every connection, as client-node's applyHTTPSOptions sets them. */
  tlsOptions(): { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; servername?: string } {
    const c = this.credentials;
    return {
      ...(c.skipTLSVerify ? { rejectUnauthorized: false } : {}), ...(c.servername ? { servername: c.servername } : {}),
      ...(c.ca ? { ca: c.ca } : {}), ...(c.cert ? { cert: c.cert } : {}), ...(c.key ? { key: c.key } : {}),
    };
  }

  /** The Authorization header, if any. */
  authorization(now = performance.now()): string | undefined {
    const { token, tokenFile } = this.credentials;
    if (tokenFile) {
      if (!this.#token || now - this.#token.at > TOKEN_FILE_MAX_AGE_MS) this.#token = { value: readFileSync(tokenFile, 'utf8'), at: now };
      return `Bearer ${this.#token.value}`;
    }
    return token ? `Bearer ${token}` : undefined;
  }

  async applyToHTTPSOptions(options: RequestOptions): Promise<void> {
    const auth = this.authorization();
    if (auth) options.headers = { ...options.headers, Authorization: auth };
    // One Agent, which holds the TLS options, so lists reuse its connections;
    // TCP keep-alive probes after 30 s, as client-node (and client-go) set them.
    const keepAlive = { keepAlive: true, keepAliveMsecs: 30_000 };
    options.agent = this.#agent ??= this.credentials.server.startsWith('https:') ? new HttpsAgent({ ...keepAlive, ...this.tlsOptions() }) : new http.Agent(keepAlive);
  }
}
