/**
 * One call to one community under the gateway's rules: a slot from the global concurrency cap, the
 * community's own deadline (which also covers the wait for a slot), the consumer's abort, and no
 * timer or listener left behind whichever way the call ends.
 */
import type { CallContext, Community, Forwarded } from './types.js';
import { CommunityError } from './errors.js';
import type { Limiter } from './limiter.js';

/**
 * How one call to a community ended, for an observer (connector/metrics): `ok` it answered (with
 * whatever status), `timeout` its deadline passed, `abandoned` the consumer went away, `failure`
 * anything else (unreachable, a fault, an unusable answer). `ms` includes the wait for a slot,
 * which the community's deadline covers too.
 */
export interface CommunityCall {
  readonly homeCommunityId: string;
  readonly local: boolean;
  readonly result: 'ok' | 'timeout' | 'abandoned' | 'failure';
  readonly ms: number;
}

export type CommunityCallObserver = (call: CommunityCall) => void;

export async function callCommunity<T>(
  community: Community,
  limiter: Limiter,
  forwarded: Forwarded,
  parent: AbortSignal | undefined,
  call: (ctx: CallContext) => Promise<T>,
  observe?: CommunityCallObserver,
): Promise<T> {
  const started = Date.now();
  let result: CommunityCall['result'] = 'failure';
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new CommunityError('unavailable', `no answer from community ${community.homeCommunityId} within ${community.timeoutMs} ms`));
  }, community.timeoutMs);
  const onParentAbort = (): void => controller.abort(new CommunityError('unavailable', 'the request was abandoned'));
  parent?.addEventListener('abort', onParentAbort, { once: true });
  if (parent?.aborted) onParentAbort();
  const ctx: CallContext = {
    signal: controller.signal,
    ...(forwarded.credentials ? { credentials: forwarded.credentials } : {}),
    ...(forwarded.audit ? { audit: forwarded.audit } : {}),
  };
  let removeAbortListener = (): void => {};
  // A local store cannot be interrupted; racing the deadline still bounds what the consumer waits for.
  const deadline = new Promise<never>((_resolve, reject) => {
    const onAbort = (): void => reject(controller.signal.reason);
    controller.signal.addEventListener('abort', onAbort, { once: true });
    removeAbortListener = () => controller.signal.removeEventListener('abort', onAbort);
  });
  deadline.catch(() => {});
  try {
    const answer = await Promise.race([limiter.run(() => call(ctx), controller.signal), deadline]);
    result = 'ok';
    return answer;
  } catch (e) {
    if (timedOut) result = 'timeout';
    else if (controller.signal.aborted) result = 'abandoned';
    if (timedOut || controller.signal.aborted) throw controller.signal.reason instanceof CommunityError ? controller.signal.reason : e;
    throw e;
  } finally {
    clearTimeout(timer);
    removeAbortListener();
    parent?.removeEventListener('abort', onParentAbort);
    if (observe !== undefined) {
      try {
        observe({ homeCommunityId: community.homeCommunityId, local: community.local, result, ms: Date.now() - started });
      } catch {
        // Measuring is best effort: it must not change what the call answered.
      }
    }
  }
}
