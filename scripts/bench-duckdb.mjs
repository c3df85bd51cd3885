// bench-duckdb.mjs — the DuckDB comparison for scripts/bench.
//
// Only the core aggregation, on the same visit CSV the pipeline reads: per patient the first
// and last pain score by visit date (patients with at least two pain scores), the percent
// improvement 100 * (first - last) / first (patients with first = 0 left out), its mean, and
// the responder rate (>= 30%). It uses patient_id, visit_date and pain only, so it runs on
// scripts/bench's core shape and on the wide one alike. DuckDB runs with 2 threads (both
// cores of the bench machine; override with BENCH_DUCKDB_THREADS).
//
//   node scripts/bench-duckdb.mjs FILE
// Run from build/bench/duckdb (where @duckdb/node-api is installed) or with NODE_PATH set;
// scripts/bench does this. Prints one line: wall seconds, then the figures for a cross-check.
import { createRequire } from 'node:module';
import path from 'node:path';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench-duckdb.mjs FILE');
  process.exit(2);
}
// Resolve @duckdb/node-api from BENCH_DUCKDB_DIR (build/bench/duckdb), not from scripts/.
const dir = process.env.BENCH_DUCKDB_DIR || process.cwd();
const require = createRequire(path.join(path.resolve(dir), 'package.json'));
const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));

const threads = process.env.BENCH_DUCKDB_THREADS || '2';
const t0 = process.hrtime.bigint();
const instance = await DuckDBInstance.create(':memory:', { threads });
const con = await instance.connect();
const quoted = "'" + path.resolve(file).replace(/'/g, "''") + "'";
const sql = `
WITH v AS (
  SELECT patient_id, visit_date, pain
  FROM read_csv(${quoted}, header = true)
  WHERE pain IS NOT NULL
), p AS (
  SELECT patient_id,
         arg_min(pain, visit_date) AS first,
         arg_max(pain, visit_date) AS last
  FROM v
  GROUP BY patient_id
  HAVING count(*) >= 2
), c AS (
  SELECT 100.0 * (first - last) / first AS pct FROM p WHERE first <> 0
)
SELECT count(*) AS n, avg(pct) AS mean_pct, avg(CASE WHEN pct >= 30 - 1e-9 THEN 1.0 ELSE 0.0 END) AS resp30
FROM c`;
const reader = await con.runAndReadAll(sql);
const [row] = reader.getRowObjects();
const t1 = process.hrtime.bigint();
const wall = Number(t1 - t0) / 1e9;
console.log(
  `wall ${wall.toFixed(3)} n ${row.n} mean_pct ${Number(row.mean_pct).toFixed(3)} ` +
  `resp30 ${(100 * Number(row.resp30)).toFixed(2)}% threads ${threads}`
);
