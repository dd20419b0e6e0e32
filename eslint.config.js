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

/**
 * functions/ in layers, lowest first: the domain (services, stores, models, the key-spec registry) ← the operation contract
 * (contract/ and each operations.ts) ← the doors (http/, aws-kms/, each routes.ts and schemas.ts) ← the wiring (app.ts,
 * deps.ts and the runtimes). Nothing imports from a layer above its own; dependencies with a single home keep it.
 */
const CONTRACT = ["functions/contract/**/*.ts", "functions/**/operations.ts"];
const DOORS = ["functions/http/**/*.ts", "functions/aws-kms/**/*.ts", "functions/**/routes.ts", "functions/**/schemas.ts", "functions/xks/errors.ts"];
const WIRING = ["functions/*.ts"];
const ADAPTERS = ["functions/**/*-store.ts", "functions/tunnel/management-api.ts"];
const above = (layers) => ({
  group: layers.flatMap((l) => ({ contract: ["**/contract/**", "**/operations.js"], doors: ["**/http/**", "**/aws-kms/**", "**/routes.js", "**/schemas.js", "**/xks/errors.js"], wiring: ["**/app.js", "**/deps.js", "**/server.js", "**/node.js", "**/lambda.js", "**/lambda-*.js"] })[l]),
  message: "no import from a layer above: domain ← contract ← doors ← wiring (see eslint.config.js)",
});
const hono = { group: ["hono", "hono/*"], message: "services never import hono" };
function functionsLayers() {
  const base = [notConnector, notInfra, nodeServer, lambdaAdapter];
  const tests = ["functions/**/*.test.ts", "functions/testing.ts"];
  return [
    { files: ["functions/**/*.ts"], ignores: [...CONTRACT, ...DOORS, ...WIRING, ...ADAPTERS, ...tests], rules: restrict([...base, sdk, above(["contract", "doors", "wiring"])], [pkcs11]) },
    { files: ["functions/**/service.ts"], rules: restrict([...base, sdk, hono, above(["contract", "doors", "wiring"])], [pkcs11]) },
    { files: ADAPTERS, rules: restrict([...base, above(["contract", "doors", "wiring"])], [pkcs11]) },
    { files: CONTRACT, ignores: tests, rules: restrict([...base, sdk, above(["doors", "wiring"])], [pkcs11]) },
    { files: DOORS, ignores: tests, rules: restrict([...base, sdk, above(["wiring"])], [pkcs11]) },
    { files: WIRING, ignores: tests, rules: restrict([...base, sdk], [pkcs11]) },
    { files: ["functions/lambda.ts"], rules: restrict([notConnector, notInfra, sdk, nodeServer], [pkcs11]) },
    { files: ["functions/server.ts"], rules: restrict([notConnector, notInfra, sdk, lambdaAdapter], [pkcs11]) },
    { files: tests, rules: restrict([notConnector, notInfra, nodeServer, lambdaAdapter], [pkcs11]) },
  ];
}

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
  ...functionsLayers(),
  { files: ["connector/**/*.ts"], rules: restrict([notFunctions, notInfra, sdk, nodeServer], [pkcs11]) },
  { files: ["connector/pkcs11/**/*.ts"], rules: restrict([notFunctions, notInfra, sdk, nodeServer]) },
);
