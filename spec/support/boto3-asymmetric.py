"""boto3 through the asymmetric, HMAC and key-agreement KMS operations against secretslite.

argv[1] is the endpoint URL, argv[2] a peer's SubjectPublicKeyInfo (DER, base64) on P-256. Checks what boto3 alone can
check (MAC round trip, the refusal of a tampered MAC and signature) and prints one JSON line with what the calling spec
checks independently with node:crypto: the signature and public key, the shared secret, the data key pair.
"""
import base64
import json
import sys

import boto3
from botocore.exceptions import ClientError

endpoint, peer_spki = sys.argv[1], base64.b64decode(sys.argv[2])
session = boto3.session.Session(aws_access_key_id="AKIDBOTO3", aws_secret_access_key="secret", region_name="eu-central-1")
kms = session.client("kms", endpoint_url=endpoint)


def error_code(call):
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"]
    return None


message = b"signed by boto3 through secretslite"
signing_key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
signed = kms.sign(KeyId=signing_key, Message=message, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256")
verified = kms.verify(KeyId=signing_key, Message=message, Signature=signed["Signature"], SigningAlgorithm="ECDSA_SHA_256")
assert verified["SignatureValid"] is True and verified["KeyId"] == signing_key
tampered = error_code(lambda: kms.verify(KeyId=signing_key, Message=message + b"!", Signature=signed["Signature"], SigningAlgorithm="ECDSA_SHA_256"))
assert tampered == "KMSInvalidSignatureException", tampered
public_key = kms.get_public_key(KeyId=signing_key)

mac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
mac = kms.generate_mac(KeyId=mac_key, Message=message, MacAlgorithm="HMAC_SHA_256")["Mac"]
assert len(mac) == 32
assert kms.verify_mac(KeyId=mac_key, Message=message, Mac=mac, MacAlgorithm="HMAC_SHA_256")["MacValid"] is True
bad_mac = error_code(lambda: kms.verify_mac(KeyId=mac_key, Message=message, Mac=bytes(32), MacAlgorithm="HMAC_SHA_256"))
assert bad_mac == "KMSInvalidMacException", bad_mac

agreement_key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["Arn"]
derived = kms.derive_shared_secret(KeyId=agreement_key, KeyAgreementAlgorithm="ECDH", PublicKey=peer_spki)
assert derived["KeyOrigin"] == "AWS_KMS" and len(derived["SharedSecret"]) == 32

wrapping_key = kms.create_key()["KeyMetadata"]["Arn"]
pair = kms.generate_data_key_pair(KeyId=wrapping_key, KeyPairSpec="ECC_NIST_P256")
opened = kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"])["Plaintext"]
assert opened == pair["PrivateKeyPlaintext"]

b64 = lambda data: base64.b64encode(data).decode()
print(json.dumps({
    "message": b64(message),
    "signature": b64(signed["Signature"]),
    "signingPublicKey": b64(public_key["PublicKey"]),
    "signingAlgorithms": public_key["SigningAlgorithms"],
    "agreementPublicKey": b64(kms.get_public_key(KeyId=agreement_key)["PublicKey"]),
    "sharedSecret": b64(derived["SharedSecret"]),
    "pairPrivateKey": b64(pair["PrivateKeyPlaintext"]),
    "pairPublicKey": b64(pair["PublicKey"]),
}))
