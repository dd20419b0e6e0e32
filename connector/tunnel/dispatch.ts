import { KmsError } from "../../shared/errors.js";
import type { HsmPort } from "../../shared/hsm/port.js";
import { Ops, type OpName, type RequestFrame, type ResponseFrame } from "../../shared/protocol/frames.js";

type Handler = (port: HsmPort, params: unknown, frame: RequestFrame) => Promise<unknown>;

const call = (frame: RequestFrame) => ({ requestId: frame.requestId, deadline: frame.deadline });

/** Each operation: validate its params, call the port, shape its result. */
const HANDLERS: { [O in OpName]: Handler } = {
  health: async (port, _params, frame) => port.health(call(frame)),
  random: async (port, params, frame) => {
    const { length } = Ops.random.params.parse(params);
    return { bytes: Buffer.from(await port.random(length, call(frame))).toString("base64") };
  },
};

/** Runs one request frame against the port and always answers with a response frame. */
export async function dispatch(port: HsmPort, frame: RequestFrame, now: () => number = Date.now): Promise<ResponseFrame> {
  try {
    if (now() > frame.deadline) throw new KmsError("DependencyTimeoutException", "the request's deadline had passed on arrival");
    const paramsCheck = Ops[frame.op].params.safeParse(frame.params);
    if (!paramsCheck.success) throw new KmsError("ValidationException", `invalid params for ${frame.op}: ${paramsCheck.error.issues[0]?.path.join(".") ?? ""}`);
    const result = await HANDLERS[frame.op](port, paramsCheck.data, frame);
    return { type: "response", id: frame.id, ok: true, result };
  } catch (err) {
    const kms = err instanceof KmsError ? err : new KmsError("KMSInternalException", "connector error");
    return { type: "response", id: frame.id, ok: false, error: { code: kms.code, message: kms.message.slice(0, 1024) } };
  }
}
