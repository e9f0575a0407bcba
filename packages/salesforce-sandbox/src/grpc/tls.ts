// @peculiar/x509 resolves its providers through tsyringe, which needs the Reflect metadata polyfill loaded first
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

export interface SandboxTls {
  /** the generated root CA: what a client passes to `grpc.credentials.createSsl(caPem)` */
  caPem: string;
  certPem: string;
  keyPem: string;
}

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

function pem(label: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${base64.trimEnd()}\n-----END ${label}-----\n`;
}

/** A throwaway root CA and a server certificate it signs, for localhost / 127.0.0.1 / ::1, valid for a week. */
export async function generateSandboxTls(): Promise<SandboxTls> {
  // @peculiar/x509 types its provider as the DOM's Crypto, which Node's webcrypto implements
  const crypto = webcrypto as unknown as NonNullable<Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1]>;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 7 * 24 * 3_600_000);
  const caKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: "01",
      name: "CN=LeadSync Salesforce Sandbox CA",
      notBefore,
      notAfter,
      keys: caKeys as never,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey as never, false, crypto),
      ],
    },
    crypto,
  );
  const serverKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: "02",
      subject: "CN=localhost",
      issuer: ca.subject,
      notBefore,
      notAfter,
      publicKey: serverKeys.publicKey as never,
      signingKey: caKeys.privateKey as never,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: "dns", value: "localhost" },
          { type: "ip", value: "127.0.0.1" },
          { type: "ip", value: "::1" },
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey as never, false, crypto),
      ],
    },
    crypto,
  );
  const keyDer = await webcrypto.subtle.exportKey("pkcs8", serverKeys.privateKey);
  return { caPem: ca.toString("pem"), certPem: cert.toString("pem"), keyPem: pem("PRIVATE KEY", keyDer) };
}
