"""Embedded Data Integrity proofs, cryptosuite ``eddsa-jcs-2022`` (W3C Data
Integrity EdDSA Cryptosuites v1.0, a W3C Recommendation).

Signing: the proof options (without ``proofValue``, with the document's
``@context``) and the document (without ``proof``) are each canonicalised
with the JSON Canonicalization Scheme (RFC 8785, the ``rfc8785`` package) and
hashed with SHA-256; the Ed25519 signature of ``hash(options) ||
hash(document)`` is the ``proofValue``, multibase base58btc (``z...``).

Every byte of the JSON is signed: a changed, added or removed field anywhere
(evidence included) breaks the proof. A verifier needs an Ed25519 and a JCS
implementation and nothing else: no JSON-LD context to fetch, no network
(docs/credentials.md shows the check in a dozen lines of Python). This
implementation reproduces the specification's eddsa-jcs-2022 test vector
byte for byte (the same signature from the same key and document).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from dlpath import keys

TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
PURPOSE = "assertionMethod"


class ProofError(Exception):
    """Why a proof does not verify (one line)."""


def _jcs(data: Any) -> bytes:
    import rfc8785

    try:
        return rfc8785.dumps(data)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise ProofError(f"the document cannot be canonicalised ({exc})") from None


def _hash_data(options: dict[str, Any], document: dict[str, Any]) -> bytes:
    config = dict(options)
    if "@context" in document:
        config["@context"] = document["@context"]
    return (hashlib.sha256(_jcs(config)).digest()
            + hashlib.sha256(_jcs(document)).digest())


def sign(document: dict[str, Any], key, created: str) -> dict[str, Any]:
    """``document`` with an embedded proof made with the Ed25519 ``key``."""
    did = keys.did_key(keys.public_bytes(key))
    options = {"type": TYPE, "cryptosuite": CRYPTOSUITE, "created": created,
               "verificationMethod": keys.verification_method(did), "proofPurpose": PURPOSE}
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if "@context" in unsecured:  # as the specification's own test vector carries it
        options["@context"] = unsecured["@context"]
    signature = key.sign(_hash_data(options, unsecured))
    return {**unsecured, "proof": {**options, "proofValue": "z" + keys.b58encode(signature)}}


@dataclass(frozen=True)
class Verified:
    #: the did:key whose key made the proof
    signer: str
    created: str


def verify(document: dict[str, Any]) -> Verified:
    """Check the document's one eddsa-jcs-2022 proof; ProofError says why not."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    proof = document.get("proof")
    if isinstance(proof, list):
        if len(proof) != 1:
            raise ProofError(f"it holds {len(proof)} proofs; dlpath issues exactly one")
        proof = proof[0]
    if not isinstance(proof, dict):
        raise ProofError("it has no proof (it was never signed)")
    if proof.get("type") != TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"its proof is not a {TYPE} with cryptosuite {CRYPTOSUITE} "
                         f"(found {proof.get('type')!r}, {proof.get('cryptosuite')!r})")
    if proof.get("proofPurpose") != PURPOSE:
        raise ProofError(f"its proof's purpose is {proof.get('proofPurpose')!r}, not {PURPOSE}")
    method = proof.get("verificationMethod")
    value = proof.get("proofValue")
    if not isinstance(method, str) or not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("its proof is incomplete (verificationMethod or proofValue)")
    try:
        public = keys.public_from_did(method)
    except ValueError as exc:
        raise ProofError(f"its proof names no usable key ({exc})") from None
    try:
        signature = keys.b58decode(value[1:])
    except ValueError:
        raise ProofError("its proofValue is not base58btc") from None
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    context = options.pop("@context", None)
    if context is not None:
        doc_context = document.get("@context")
        listed = context if isinstance(context, list) else [context]
        have = doc_context if isinstance(doc_context, list) else [doc_context]
        if have[:len(listed)] != listed:
            raise ProofError("its proof's @context does not match the document's")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, _hash_data(options,
                                                                                unsecured))
    except InvalidSignature:
        raise ProofError("the signature does not match its content: the credential was "
                         "changed after it was signed") from None
    return Verified(signer=method.partition("#")[0], created=str(proof.get("created", "")))
