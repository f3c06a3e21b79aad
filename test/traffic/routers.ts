// The TrafficRouters and DestinationRule of the routing tests (router.test.ts in Envoy, istio.test.ts
// for Istio): host reviews (subsets v1, v2, three from a DestinationRule) with every match kind and
// action; host details (default subsets) with a fallback.

/** Subsets of reviews: v1, v2, and `three` (version v3). */
export const REVIEWS_SUBSETS = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
    - { name: three, labels: { version: v3, app: reviews } }
`;

/** Every match kind and action, in an order where first-match matters. */
export const REVIEWS_ROUTER = `apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficRouter
metadata: { name: reviews, labels: { app: reviews } }
spec:
  hosts: [reviews]
  http:
    - name: exact
      match: [{ uri: { exact: /exact } }]
      route: [{ destination: { host: reviews, subset: v2 } }]
    - name: prefix
      match: [{ uri: { prefix: /prefix/ } }]
      route: [{ destination: { host: reviews, subset: three } }]
    - name: re2-only
      match: [{ uri: { regex: '/re2/(?P<id>[[:digit:]]+)\\pN*' } }]
      route: [{ destination: { host: reviews, subset: v2 } }]
    - name: evil
      match: [{ uri: { regex: '/evil/(a+)+b' } }]
      route: [{ destination: { host: reviews, subset: three } }]
    - name: method
      match: [{ method: { exact: DELETE } }]
      route: [{ destination: { host: reviews, subset: three } }]
    - name: and-or
      match:
        - headers: { x-user: { exact: alice }, x-beta: {} }
        - queryParams: { tag: { exact: v2 } }
      route: [{ destination: { host: reviews, subset: v2 } }]
    - name: first
      match: [{ uri: { prefix: /order }, headers: { x-first: {} } }]
      route: [{ destination: { host: reviews, subset: three } }]
    - name: second
      match: [{ uri: { prefix: /order } }]
      route: [{ destination: { host: reviews, subset: v2 } }]
    - name: authority
      match: [{ uri: { prefix: /auth }, authority: { exact: reviews.default.svc.cluster.local } }]
      route: [{ destination: { host: reviews, subset: three } }]
    - name: scheme
      match: [{ uri: { prefix: /scheme }, scheme: { exact: http } }]
      route: [{ destination: { host: reviews, subset: v2 } }]
    - name: caseless
      match: [{ uri: { exact: /CaseLess }, ignoreUriCase: true }]
      route: [{ destination: { host: reviews, subset: three } }]
    - name: without
      match: [{ uri: { prefix: /without }, withoutHeaders: { x-block: {} } }]
      route: [{ destination: { host: reviews, subset: v2 } }]
    - name: header-regex
      match: [{ uri: { prefix: /hre }, headers: { x-id: { regex: '[0-9]{3}' } } }]
      route: [{ destination: { host: reviews, subset: three } }]
    - name: split
      match: [{ uri: { prefix: /split } }]
      route:
        - { destination: { host: reviews, subset: v2 }, weight: 80 }
        - { destination: { host: reviews, subset: three }, weight: 20 }
    - name: headers
      match: [{ uri: { prefix: /headers } }]
      headers:
        request: { set: { x-set: one }, add: { x-add: two }, remove: [x-remove] }
        response: { set: { x-resp: yes }, remove: [x-upstream-path] }
      route:
        - destination: { host: reviews, subset: v2 }
          headers: { request: { set: { x-dest: v2 } } }
    - name: rewrite
      match: [{ uri: { prefix: /old/ } }]
      rewrite: { uri: /new/, authority: rewritten.example }
      route: [{ destination: { host: reviews, subset: v2 } }]
    - name: exact-rewrite
      match: [{ uri: { exact: /swap } }]
      rewrite: { uri: /swapped }
      route: [{ destination: { host: reviews, subset: v2 } }]
    - name: timeout
      match: [{ uri: { prefix: /slow } }]
      timeout: 1500ms
      route: [{ destination: { host: reviews, subset: v2 } }]
    - name: retries
      match: [{ uri: { prefix: /flaky } }]
      retries: { attempts: 2, perTryTimeout: 5s, retryOn: 5xx }
      route: [{ destination: { host: reviews, subset: v2 } }]
    - name: delay
      match: [{ uri: { prefix: /delayed } }]
      fault: { delay: { fixedDelay: 10ms, percentage: { value: 100 } } }
      route: [{ destination: { host: reviews, subset: v2 } }]
    - name: redirect
      match: [{ uri: { exact: /moved } }]
      redirect: { uri: /there, authority: elsewhere.example, redirectCode: 308 }
    - name: direct
      match: [{ uri: { prefix: /teapot } }]
      directResponse: { status: 418, body: { string: short and stout } }
    - name: fault
      match: [{ uri: { prefix: /fault } }]
      fault: { abort: { httpStatus: 503, percentage: { value: 100 } } }
      route: [{ destination: { host: reviews, subset: v2 } }]
    - name: mirror
      match: [{ uri: { prefix: /mirror } }]
      mirror: { host: reviews, subset: three }
      mirrorPercentage: { value: 100 }
      route: [{ destination: { host: reviews, subset: v2 } }]
    - name: default
      route: [{ destination: { host: reviews, subset: v1 } }]
`;

/** details: subset v2 with fallback v1 (Envoy only: Istio cannot express fallback). */
export const DETAILS_ROUTER = `apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficRouter
metadata: { name: details }
spec:
  hosts: [details]
  http:
    - match: [{ uri: { prefix: /nofallback } }]
      route: [{ destination: { host: details, subset: v2 } }]
    - route:
        - destination: { host: details, subset: v2, fallback: { host: details, subset: v1 } }
`;
