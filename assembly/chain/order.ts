// The check order, declared here and nowhere else (Sentinel-Go: every slot states its Order()).
// Each strategy names its step; a resource keeps its rules by step, and the chain runs the steps
// in this order over every resource a request matches.
//
//   rate limits ─▶ pacing ─▶ concurrency ─▶ circuit breaker ─▶ (rate-limit service, when asked)
//
// * Rate limits first: a request they refuse costs nothing downstream of them.
// * Pacing may make the request wait. The steps after it run when the request is released, as in
//   Sentinel, where the flow slot sleeps and the later slots see the request afterwards: a waiting
//   request holds no concurrency slot and is not forwarded to a breaker that opened meanwhile.
// * The breaker last, so that a half-open probe refused by an earlier check never starts.
// * The rate-limit service is asked after every local check has passed: local reservations can be
//   given back if the service refuses, hits the service has counted cannot.
export const STEP_RATE_LIMIT: i32 = 0;
export const STEP_PACING: i32 = 1;
export const STEP_CONCURRENCY: i32 = 2;
export const STEP_BREAKER: i32 = 3;
export const STEPS: i32 = 4;
