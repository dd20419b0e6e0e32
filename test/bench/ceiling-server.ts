import { createCipheriv, randomBytes } from "node:crypto";
import { createServer } from "node:http";

/**
 * Case A, the ceiling: a raw node:http server doing what an encrypt request needs at minimum —
 * JSON parse, base64, AES-256-GCM with a key in memory — with no framework, auth, policy or audit.
 * Listens on 127.0.0.1:<argv[2]>.
 */
const key = randomBytes(32);
const port = Number(process.argv[2]);

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const { plaintext } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { plaintext: string };
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    const body = Buffer.concat([iv, cipher.update(Buffer.from(plaintext, "base64")), cipher.final(), cipher.getAuthTag()]);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keyId: "ceiling", ciphertextBlob: body.toString("base64") }));
  });
}).listen(port, "127.0.0.1");
