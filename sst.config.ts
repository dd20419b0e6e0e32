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
    const { createFunctions } = await import("./infra/aws/functions");
    const { createConnectorApi, createHttpApi, routeConnectors, scheduleSweeper } = await import("./infra/aws/apis");
    const { main } = createTables();
    // Per stage, set once with `sst secret set OperatorTenant <12-digit account id> --stage <stage>`.
    const operatorTenant = new sst.Secret("OperatorTenant");
    // Per stage, the functions' Ed25519 identity (PKCS#8 PEM) that connectors trust: `sst secret set FunctionsIdentityKey "$(cat functions-identity.pem)"`.
    const identityKey = new sst.Secret("FunctionsIdentityKey");
    const connectors = createConnectorApi();
    const fns = createFunctions({ table: main, connectors, operatorTenant, identityKey });
    routeConnectors(connectors, fns);
    // Optional, per deployment: the domain AWS KMS calls as an XKS proxy (see README "AWS external key stores").
    const api = createHttpApi(fns, { domain: process.env.TETHER_API_DOMAIN, certArn: process.env.TETHER_API_CERT_ARN, truststoreUri: process.env.TETHER_API_MTLS_TRUSTSTORE });
    scheduleSweeper(fns);
    return { api: api.url, connectorUrl: connectors.url, table: main.name };
  },
});
