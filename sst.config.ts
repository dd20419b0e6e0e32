/// <reference path="./.sst/platform/config.d.ts" />

// Tether on AWS. This file only wires the components in infra/aws (see infra/aws/*.ts).
export default $config({
  app(input) {
    return {
      name: "tether",
      home: "aws",
      removal: input?.stage === "prod" ? "retain" : "remove",
      protect: input?.stage === "prod",
    };
  },
  async run() {
    const { createTables } = await import("./infra/aws/tables");
    const tables = createTables();
    return { tables: Object.fromEntries(Object.entries(tables).map(([name, table]) => [name, table.name])) };
  },
});
