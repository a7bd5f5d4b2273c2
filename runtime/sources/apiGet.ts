// One GET to the API server, with the config's headers, TLS options and
// connection agent, on Node's own HTTP client. Not undici's (client-node's
// choice): a change on an idle agent is one event read cold, and on a bare
// watcher here an event cost 1.7-1.8 ms of CPU read through undici's
// dispatcher against 0.56-0.63 ms through node:http (bench/README.md).
import type { IncomingMessage, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ApiAccess } from './kubeConfig.ts';
import { http } from './nodeHttp.ts';
import { JSON_TYPE } from './protoSchema.ts';

/** The reason a timer aborts a request with, as AbortSignal.timeout gives it. */
export const timeoutError = () => new DOMException('The operation was aborted due to timeout', 'TimeoutError');

/** Resolves with the response once its head has arrived, whatever its status; rejects if no response comes. */
export async function apiGet(access: ApiAccess, path: string, query: { [k: string]: string }, signal: AbortSignal, accept = JSON_TYPE): Promise<IncomingMessage> {
  const cluster = access.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  const url = new URL(cluster.server + path);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const options: RequestOptions = { method: 'GET', headers: { Accept: accept }, signal };
  await access.applyToHTTPSOptions(options);
  const send = url.protocol === 'https:' ? httpsRequest : http.request;
  return new Promise((resolve, reject) => {
    const req = send(url, options, resolve);
    req.on('error', reject); // after the response, its own 'error' carries the failure
    req.end();
  });
}
