/// <reference path="../../.sst/platform/config.d.ts" />
import type { TetherFunctions } from "./functions";

/** The connectors' WebSocket API: created first, since the functions need its management endpoint. */
export const createConnectorApi = (): sst.aws.ApiGatewayWebSocket => new sst.aws.ApiGatewayWebSocket("Connectors");

/** Routes the WebSocket API's three routes to the hub function. */
export function routeConnectors(connectors: sst.aws.ApiGatewayWebSocket, fns: TetherFunctions): void {
  for (const route of ["$connect", "$disconnect", "$default"]) connectors.route(route, fns.hub.arn);
}

/**
 * Where the HTTP API answers besides its default endpoint: AWS KMS reaches an XKS proxy only at a
 * domain name on port 443 with a certificate from a public CA. `domain` is that name (its
 * certificate issued by ACM; `certArn` when the DNS is not on Route 53). With `truststoreUri`
 * (`s3://bucket/key` of a PEM bundle) the domain asks for client certificates (mutual TLS: AWS
 * KMS presents `cks.kms.<region>.amazonaws.com`), and the default endpoint, which could not, is off.
 */
export type HttpApiDomain = { domain?: string | undefined; certArn?: string | undefined; truststoreUri?: string | undefined };

/** The HTTP API (payload v2): every path goes to the HTTP function, which routes it itself (the native API, AWS KMS, XKS). */
export function createHttpApi(fns: TetherFunctions, o: HttpApiDomain = {}): sst.aws.ApiGatewayV2 {
  const truststoreUri = o.domain ? o.truststoreUri : undefined;
  const api = new sst.aws.ApiGatewayV2("Api", {
    ...(o.domain ? { domain: o.certArn ? { name: o.domain, cert: o.certArn, dns: false as const } : { name: o.domain } } : {}),
    ...(truststoreUri
      ? {
          transform: {
            domainName: (args: aws.apigatewayv2.DomainNameArgs) => {
              args.mutualTlsAuthentication = { truststoreUri };
            },
            api: (args: aws.apigatewayv2.ApiArgs) => {
              args.disableExecuteApiEndpoint = true;
            },
          },
        }
      : {}),
  });
  api.route("$default", fns.http.arn);
  return api;
}

/** The sweeper, every five minutes. */
export const scheduleSweeper = (fns: TetherFunctions): sst.aws.CronV2 => new sst.aws.CronV2("Sweep", { schedule: "rate(5 minutes)", function: fns.sweeper.arn });
