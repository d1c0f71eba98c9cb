/**
 * One call to one community under the gateway's rules: a slot from the global concurrency cap, the
 * community's own deadline (which also covers the wait for a slot), the consumer's abort, and no
 * timer or listener left behind whichever way the call ends.
 */
import type { CallContext, Community, Forwarded } from './types.js';
import { CommunityError } from './errors.js';
import type { Limiter } from './limiter.js';

export async function callCommunity<T>(
  community: Community,
  limiter: Limiter,
  forwarded: Forwarded,
  parent: AbortSignal | undefined,
  call: (ctx: CallContext) => Promise<T>,
): Promise<T> {
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
    return await Promise.race([limiter.run(() => call(ctx), controller.signal), deadline]);
  } catch (e) {
    if (timedOut || controller.signal.aborted) throw controller.signal.reason instanceof CommunityError ? controller.signal.reason : e;
    throw e;
  } finally {
    clearTimeout(timer);
    removeAbortListener();
    parent?.removeEventListener('abort', onParentAbort);
  }
}
