// PostGraphile 5 in its production shape, over the database run.py creates.
// DATABASE_URL carries application_name=spm_bench_postgraphile, so its PostgreSQL
// backends are easy to tell apart in pg_stat_activity.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["public"] }),
  ],
  grafserv: {
    graphiql: false, // no IDE, no Ruru assets
    watch: false, // schema built once at start, never re-introspected
    websockets: false, // plain HTTP POST /graphql only
  },
  grafast: {
    explain: false, // no plan or SQL in the response extensions
  },
};

export default preset;
