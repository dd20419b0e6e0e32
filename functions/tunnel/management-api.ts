import { ApiGatewayManagementApiClient, DeleteConnectionCommand, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import { KmsError, isKmsError } from "../../shared/errors.js";
import { DeadlineHttpHandler, translateFaults } from "../db/deadlines.js";

/** Sends frames to, and closes, connections of the API Gateway WebSocket API. */
export interface ConnectionPoster {
  /** "gone" when the connection no longer exists (the connector dropped): nothing was delivered. */
  post(connectionId: string, data: string): Promise<"sent" | "gone">;
  close(connectionId: string): Promise<void>;
}

/**
 * The API Gateway management API (PostToConnection, DeleteConnection), signed with the function's
 * own role. `endpoint` is the WebSocket API's https://<api>.execute-api.<region>.amazonaws.com/<stage>.
 */
export class ManagementApiPoster implements ConnectionPoster {
  private readonly client: ApiGatewayManagementApiClient;

  constructor(endpoint: string, region: string, timeoutMs: number) {
    this.client = new ApiGatewayManagementApiClient({ endpoint, region, maxAttempts: 2, requestHandler: new DeadlineHttpHandler("the connector relay", timeoutMs) });
    translateFaults(this.client, "the connector relay");
  }

  async post(connectionId: string, data: string): Promise<"sent" | "gone"> {
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(data, "utf8") }));
      return "sent";
    } catch (err) {
      const name = (err as Error).name;
      if (name === "GoneException") return "gone";
      if (isKmsError(err)) throw err; // out of time, throttled, unreachable
      if (name === "LimitExceededException") throw new KmsError("ThrottlingException", "the connector relay is throttling");
      if (name === "PayloadTooLargeException") throw new KmsError("ValidationException", "the request is too large for the connector relay");
      throw new KmsError("HsmUnavailableException", `the connector relay did not accept the request (${name})`);
    }
  }

  async close(connectionId: string): Promise<void> {
    await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId })).catch((err: Error) => {
      if (err.name !== "GoneException") throw err;
    });
  }
}
