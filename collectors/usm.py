"""SNMPv3 user-based security (RFC 3414, RFC 7860): the one table of auth and privacy protocols.

Both pysnmp paths, the poller (``collectors.snmp``) and the trap receiver (``collectors.traps``), map the
config's protocol names through these tables, so a name means the same thing on both. The gufo-snmp
engine (``collectors.fast_snmp``) has its own table of the same names onto gufo's key classes, with the
same AES-192/256 key extension; tests/test_engines.py checks every protocol against net-snmp on both engines.
"""

from __future__ import annotations

from pysnmp.entity import config as engine_config

from collectors.types import AuthProtocol, PrivProtocol

AUTH_PROTOCOLS: dict[AuthProtocol, tuple[int, ...]] = {
    "md5": engine_config.USM_AUTH_HMAC96_MD5,
    "sha": engine_config.USM_AUTH_HMAC96_SHA,
    "sha224": engine_config.USM_AUTH_HMAC128_SHA224,
    "sha256": engine_config.USM_AUTH_HMAC192_SHA256,
    "sha384": engine_config.USM_AUTH_HMAC256_SHA384,
    "sha512": engine_config.USM_AUTH_HMAC384_SHA512,
}
# AES-192/256 keys are longer than the auth hash; net-snmp ("AES-192", "AES-256") extends them the
# Blumenthal way (draft-blumenthal-aes-usm-04), Cisco the Reeder way. We follow net-snmp, which is
# what Linux-based APs run.
PRIV_PROTOCOLS: dict[PrivProtocol, tuple[int, ...]] = {
    "des": engine_config.USM_PRIV_CBC56_DES,
    "aes": engine_config.USM_PRIV_CFB128_AES,
    "aes192": engine_config.USM_PRIV_CFB192_AES_BLUMENTHAL,
    "aes256": engine_config.USM_PRIV_CFB256_AES_BLUMENTHAL,
}
