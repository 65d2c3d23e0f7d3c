// Benchmark 2: the same work as bench/scenarios/check_extract.toml — a named request,
// a status check and one value extracted from the body with a regular expression.
// Env: URL, VUS, DURATION, SUMMARY_PATH.
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  summaryTrendStats: ['avg', 'med', 'p(90)', 'p(99)', 'max'],
  scenarios: {
    check_extract: {
      executor: 'constant-vus',
      vus: Number(__ENV.VUS),
      duration: __ENV.DURATION,
    },
  },
};

const TOKEN = /(ok)/;

export default function () {
  const res = http.get(__ENV.URL, { tags: { name: 'get_ok' } });
  const match = TOKEN.exec(res.body);
  check(res, {
    'status is 200': (r) => r.status === 200,
    'token extracted': () => match !== null && match[1] === 'ok',
  });
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY_PATH]: JSON.stringify(data) };
}
