// @ts-check
import tseslint from "typescript-eslint";

/** Import boundaries (see ../shared/STYLE.md §2): each folder may import only what its layer allows. */
const restrict = (patterns, paths = []) => ({
  "no-restricted-imports": ["error", { patterns, paths }],
});

const notFunctions = { group: ["**/functions/**"], message: "connector/ and shared/ never import functions/" };
const notConnector = { group: ["**/connector/**"], message: "functions/ and shared/ never import connector/" };
const notInfra = { group: ["**/infra/**"], message: "runtime code never imports infra/" };
const sdk = { group: ["@aws-sdk/*"], message: "@aws-sdk/* lives only in adapters: *-store.ts and functions/tunnel/management-api.ts" };
const lambdaAdapter = { group: ["hono/aws-lambda"], message: "hono/aws-lambda lives only in functions/lambda.ts" };
const nodeServer = { group: ["@hono/node-server", "@hono/node-server/*"], message: "@hono/node-server lives only in functions/server.ts" };
const pkcs11 = { name: "pkcs11js", message: "pkcs11js lives only in connector/pkcs11/" };

export default tseslint.config(
  { ignores: ["node_modules/", ".tether/", ".sst/", "dist/", "coverage/"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "error",
    },
  },
  // A promise nobody awaits loses its errors and its ordering (an un-awaited close() once let a module be initialised twice): typed lint says so.
  {
    files: ["functions/**/*.ts", "connector/**/*.ts", "shared/**/*.ts", "test/**/*.ts", "infra/local/**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { "@typescript-eslint/no-floating-promises": "error", "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }] },
  },
  // A RegExp built at run time may come from caller input and backtrack without bound: globs go through shared/glob.ts.
  {
    files: ["functions/**/*.ts", "connector/**/*.ts", "shared/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        { selector: "NewExpression[callee.name='RegExp']", message: "no RegExp built at run time (caller input could make it backtrack): use shared/glob.ts" },
        { selector: "CallExpression[callee.name='RegExp']", message: "no RegExp built at run time (caller input could make it backtrack): use shared/glob.ts" },
      ],
    },
  },
  // SST's generated platform types are reached the way SST documents: a triple-slash reference.
  { files: ["sst.config.ts", "infra/aws/**/*.ts"], rules: { "@typescript-eslint/triple-slash-reference": "off" } },
  { files: ["shared/**/*.ts"], rules: restrict([notFunctions, notConnector, notInfra, sdk, nodeServer, { group: ["hono", "hono/*"], message: "shared/ never imports hono" }], [pkcs11]) },
  { files: ["functions/**/*.ts"], rules: restrict([notConnector, notInfra, sdk, nodeServer, lambdaAdapter], [pkcs11]) },
  // Adapters: DynamoDB stores, and the API Gateway management API (PostToConnection) of the apigw hub.
  { files: ["functions/**/*-store.ts", "functions/tunnel/management-api.ts"], rules: restrict([notConnector, notInfra, nodeServer, lambdaAdapter], [pkcs11]) },
  { files: ["functions/lambda.ts"], rules: restrict([notConnector, notInfra, sdk, nodeServer], [pkcs11]) },
  { files: ["functions/server.ts"], rules: restrict([notConnector, notInfra, sdk, lambdaAdapter], [pkcs11]) },
  { files: ["connector/**/*.ts"], rules: restrict([notFunctions, notInfra, sdk, nodeServer], [pkcs11]) },
  { files: ["connector/pkcs11/**/*.ts"], rules: restrict([notFunctions, notInfra, sdk, nodeServer]) },
  { files: ["functions/**/service.ts"], rules: restrict([notConnector, notInfra, sdk, nodeServer, lambdaAdapter, { group: ["hono", "hono/*"], message: "services never import hono" }], [pkcs11]) },
);
