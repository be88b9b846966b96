// grafserv on node's own http server, listening on loopback only.
// Run with GRAPHILE_ENV=production and NODE_ENV=production (run.py does).
//   node server.mjs                 serve POST /graphql on 127.0.0.1:$PORT
//   node server.mjs --print-schema  print the generated SDL (to look up field names)
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import { printSchema } from "postgraphile/graphql";
import preset from "./graphile.config.mjs";

const pgl = postgraphile(preset);
// The schema is built once here (one introspection), before the port opens.
const schema = await pgl.getSchema();

if (process.argv.includes("--print-schema")) {
  console.log(printSchema(schema));
  await pgl.release();
} else {
  const port = Number(process.env.PORT ?? 5678);
  const server = createServer();
  server.on("error", (error) => {
    console.error(error);
    process.exit(1);
  });
  await pgl.createServ(grafserv).addTo(server);
  server.listen(port, "127.0.0.1", () => console.log(`listening on 127.0.0.1:${port}`));
}
