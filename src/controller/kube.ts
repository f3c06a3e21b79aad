// The Kubernetes client (@kubernetes/client-node): a kubeconfig (a file, else the pod's
// ServiceAccount), the typed APIs the controller calls, and every request counted and marked with
// the controller's User-Agent (`sergo-controller/VERSION (IDENTITY)`), so the API server's audit
// log tells the replicas apart.
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { RequestContext } from '@kubernetes/client-node';
import type https from 'node:https';
import type { RequestInit } from 'node-fetch';

export type RequestObserver = (verb: string, resource: string) => void;

class ObservedKubeConfig extends KubeConfig {
  userAgent = 'sergo-controller';
  observer: RequestObserver = () => {};

  /** Every typed API call goes through here. */
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setHeaderParam('User-Agent', this.userAgent);
    const { verb, resource } = describeRequest(context.getHttpMethod(), context.getUrl());
    this.observer(verb, resource);
  }

  /** Watches go through here (they are counted by the informer, which knows the URL). */
  override async applyToFetchOptions(opts: https.RequestOptions): Promise<RequestInit> {
    const init = await super.applyToFetchOptions(opts);
    (init.headers as unknown as Headers).set('User-Agent', this.userAgent);
    return init;
  }
}

export interface KubeOptions {
  /** A kubeconfig file; default: $KUBECONFIG, ~/.kube/config, else in-cluster. */
  kubeconfig?: string;
  context?: string;
  userAgent: string;
  observer?: RequestObserver;
}

export interface Kube {
  config: KubeConfig;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  server: string;
}

export function connect(options: KubeOptions): Kube {
  const config = new ObservedKubeConfig();
  if (options.kubeconfig !== undefined) config.loadFromFile(options.kubeconfig);
  else config.loadFromDefault();
  if (options.context !== undefined) config.setCurrentContext(options.context);
  config.userAgent = options.userAgent;
  if (options.observer !== undefined) config.observer = options.observer;
  const server = config.getCurrentCluster()?.server;
  if (server === undefined) throw new Error('the kubeconfig names no cluster');
  return {
    config,
    custom: config.makeApiClient(CustomObjectsApi),
    core: config.makeApiClient(CoreV1Api),
    server,
  };
}

/** The HTTP status of a failed call (undefined: no answer, e.g. the connection was refused). */
export function statusOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { statusCode?: unknown; code?: unknown } | undefined)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** A one-line description of a failed call. */
export function describeError(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    const message = typeof body === 'string' ? safeMessage(body) : (body as { message?: string } | undefined)?.message;
    return `HTTP ${err.code}${message === undefined ? '' : `: ${message}`}`;
  }
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}

function safeMessage(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { message?: string }).message;
  } catch {
    return body === '' ? undefined : body.slice(0, 200);
  }
}

/** Kubernetes' verbs: a GET of a collection is a list, with watch=true a watch. */
export function describeRequest(method: string, url: string): { verb: string; resource: string } {
  const u = new URL(url);
  const parts = u.pathname.split('/').filter((p) => p !== '');
  // /api/v1[/namespaces/NS]/RESOURCE[/NAME[/SUB]] or /apis/GROUP/VERSION[/namespaces/NS]/RESOURCE[/NAME[/SUB]]
  const rest = parts.slice(parts[0] === 'api' ? 2 : 3);
  const scoped = rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(2) : rest;
  const [resource = '', name, sub] = scoped;
  const m = method.toUpperCase();
  let verb = m.toLowerCase();
  if (m === 'GET') verb = name === undefined ? (u.searchParams.get('watch') === 'true' ? 'watch' : 'list') : 'get';
  else if (m === 'POST') verb = 'create';
  else if (m === 'PUT') verb = 'update';
  return { verb, resource: sub === undefined ? resource : `${resource}/${sub}` };
}
