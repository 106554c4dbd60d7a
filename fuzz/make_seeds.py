#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/.

The conversations are the server sides of the protocol tests' scripts (test/support/scripts.hpp
and the tests beside it) and the shapes of what Prosody, ejabberd and jabberd2 send (their
headers, features and SCRAM challenges), plus one entry per finding and hole fixed. The fuzz
targets' FakeHost numbers its requests r1, r2, … so replies carry those ids. Run it again after
changing a seed; the files the fuzzer adds (named by their SHA-1) are kept.
"""
import hashlib
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SASL = "urn:ietf:params:xml:ns:xmpp-sasl"

client_header = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' "
                 "version='1.0'>")
prosody_header = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' xml:lang='en' "
                  "id='6c0e5bb4-0e7f-4c4c-a8c0-5b3a1c0d6a11' from='localhost' version='1.0'>")
ejabberd_header = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                   "xmlns:stream='http://etherx.jabber.org/streams' id='1339875313406374161' "
                   "from='localhost' version='1.0' xml:lang='en'>")
plain_only = ("<stream:features><mechanisms xmlns='%s'><mechanism>PLAIN</mechanism>"
              "</mechanisms></stream:features>" % SASL)
scram_features = ("<stream:features><mechanisms xmlns='%s'><mechanism>SCRAM-SHA-1</mechanism>"
                  "<mechanism>SCRAM-SHA-256</mechanism><mechanism>PLAIN</mechanism>"
                  "</mechanisms><register xmlns='http://jabber.org/features/iq-register'/>"
                  "</stream:features>" % SASL)
starttls_features = ("<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                     "<required/></starttls><mechanisms xmlns='%s'><mechanism>PLAIN</mechanism>"
                     "</mechanisms></stream:features>" % SASL)
bind_features = ("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
                 "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>"
                 "<sm xmlns='urn:xmpp:sm:3'/></stream:features>")
success = "<success xmlns='%s'/>" % SASL
bind_result = ("<iq type='result' id='r1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
               "<jid>user@localhost/res</jid></bind></iq>")
session_result = "<iq type='result' id='r2'/>"
# base64 of a SCRAM server-first-message: with a sane count, the count that blocked the loop
# (finding 1), and the one gsasl wraps to 0 and leaks at (finding 2).
import base64
def scram_first(i):
    return base64.b64encode(("r=abcdefghijklmnopqrstuvwxyzABCDEF,s=QSXCR+Q6sek8bf92,i=%s" % i)
                            .encode()).decode()
def challenge(text):
    return "<challenge xmlns='%s'>%s</challenge>" % (SASL, text)

legacy_header = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams' id='legacysid123' "
                 "from='localhost'>")
legacy_fields = ("<iq type='result' id='r1'><query xmlns='jabber:iq:auth'><username/><password/>"
                 "<digest/><resource/></query></iq>")
prosody_fields = ("<iq type='result' id='r1'><query xmlns='jabber:iq:auth'><username/>"
                  "<password/><resource/></query></iq>")
component_header = ("<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
                    "xmlns:stream='http://etherx.jabber.org/streams' id='3BF96D32' "
                    "from='component.localhost'>")
j2_header = ("<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
             "xmlns='http://jabberd.jabberstudio.org/ns/component/1.0' from='localhost' "
             "version='1.0' id='j2sid'>")
j2_bind = "<bind xmlns='http://jabberd.jabberstudio.org/ns/component/1.0' id='r1'/>"
digest_features = ("<stream:features><mechanisms xmlns='%s'><mechanism>DIGEST-MD5</mechanism>"
                   "</mechanisms></stream:features>" % SASL)
digest_challenge = base64.b64encode(b'realm="localhost",nonce="OA6MG9tEQGm2hh",qop="auth",'
                                    b'charset=utf-8,algorithm=md5-sess').decode()
stream_error = ("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced</text></stream:error>")
message = ("<message from='a@localhost/x' to='user@localhost/res' type='chat' id='m1'>"
           "<body>hi &amp; bye</body><active xmlns='http://jabber.org/protocol/chatstates'/>"
           "</message>")
many_attrs = "<message " + " ".join("a%d='x'" % i for i in range(70)) + "/>"
many_ns = "<message>" + "".join("<x xmlns:p%d='urn:%d'/>" % (i, i) for i in range(70)) + "</message>"
doctype = "<?xml version='1.0'?><!DOCTYPE stream [<!ENTITY x 'y'>]>" + client_header[21:]
trickle_seed = client_header + "<message><body>" + "x" * 300

def protocol_seeds():
    """name -> list of (splits, wire)"""
    x = {
        "plain_login": client_header + plain_only + success + client_header + bind_features +
                       bind_result + session_result + message,
        "prosody_scram": prosody_header + scram_features + challenge(scram_first(4096)),
        "scram_huge_count": ejabberd_header + scram_features + challenge(scram_first(20000000)),
        "scram_wrapping_count": client_header + scram_features +
                                challenge(scram_first(4294967296)),
        "starttls": client_header + starttls_features +
                    "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" + client_header +
                    plain_only + success + client_header + bind_features + bind_result,
        "auth_failure": client_header + plain_only + "<failure xmlns='%s'><not-authorized/>"
                        "<text xml:lang='en'>Invalid username or password</text></failure>" % SASL,
        "stream_error": client_header + stream_error,
        "second_header": client_header + plain_only + client_header,
        "doctype": doctype,
        "many_attributes": client_header + many_attrs,
        "many_namespaces": client_header + many_ns,
        "trickle": trickle_seed,
        "bind_conflict": client_header + plain_only + success + client_header + bind_features +
                         "<iq type='error' id='r1'><error type='cancel'><conflict "
                         "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
    }
    legacy = {
        "digest": legacy_header + legacy_fields + "<iq type='result' id='r2'/>" + message,
        "prosody": legacy_header + prosody_fields + "<iq type='result' id='r2'/>",
        "with_features": client_header + starttls_features +
                         "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" + legacy_header +
                         legacy_fields + "<iq type='result' id='r2'/>",
        "error": legacy_header + legacy_fields + "<iq type='error' id='r2'><error code='401' "
                 "type='auth'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                 "</error></iq>",
        "second_header": legacy_header + legacy_header,
        "doctype": doctype,
    }
    j14 = {
        "handshake": component_header + "<handshake/>" + message,
        "refused": component_header + stream_error + "</stream:stream>",
        "second_header": component_header + component_header,
        "doctype": "<!DOCTYPE x>" + component_header,
        "many_attributes": component_header + many_attrs,
    }
    j2 = {
        "plain_login": j2_header + plain_only + success + j2_header + "<stream:features/>" +
                       j2_bind + "<route xmlns='http://jabberd.jabberstudio.org/ns/component/1.0' "
                       "from='a@localhost' to='x.localhost'>" + message + "</route>",
        "digest": j2_header + digest_features + challenge(digest_challenge),
        "bind_error": j2_header + plain_only + success + j2_header + "<stream:features/>" +
                      "<bind xmlns='http://jabberd.jabberstudio.org/ns/component/1.0' id='r1' "
                      "error='409'/>",
        "second_header": j2_header + j2_header,
    }
    return {"xmpp": x, "legacy": legacy, "j14": j14, "j2": j2}

def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

def main():
    for target, seeds in protocol_seeds().items():
        for name, wire in seeds.items():
            write(target, name, b"\x00" + wire.encode())
            # The same bytes in reads of 1, 7 and 61 bytes.
            write(target, name + "_cut", b"\x03\x01\x07\x3d" + wire.encode())
    streams = dict(protocol_seeds()["xmpp"])
    streams.update({
        "cdata": client_header + "<message><body><![CDATA[<a b='c'>]]]]></body></message>",
        "entities": client_header + "<message a='&lt;&#38;&#x41;'>&amp;&#233;</message>",
        "comment": client_header + "<!-- no -->",
        "pi": client_header + "<?pi x?>",
        "end": client_header + message + "</stream:stream>",
        "bad_utf8": client_header + "<message>\xff</message>",
        "deep": client_header + "<a>" * 70 + "</a>" * 70,
        "unbound_prefix": client_header + "<p:message/>",
    })
    for name, wire in streams.items():
        write("xml_stream", name, b"\x00" + wire.encode("utf-8", "surrogateescape"))
        write("xml_stream", name + "_cut", b"\x02\x01\x05" + wire.encode())
    sasl = {
        "scram_first": chr(0) + challenge(scram_first(64)),
        "scram_huge_count": chr(0) + challenge(scram_first(20000000)),
        "scram_wrapping_count": chr(0) + challenge(scram_first(4294967296)),
        "scram_count_zero": chr(1) + challenge(scram_first(0)),
        "scram_count_sign": chr(1) + challenge(scram_first("-1")),
        "failure": chr(2) + "<failure xmlns='%s'><temporary-auth-failure/></failure>" % SASL,
        "digest": chr(3) + challenge(digest_challenge) + challenge(base64.b64encode(
            b"rspauth=ea40f60335c427b5527b84dbabcdfffd").decode()) + success,
        "success_early": chr(4) + success,
        "bad_base64": chr(0) + challenge("!!!"),
    }
    for name, data in sasl.items():
        write("sasl", name, data.encode("latin-1"))
    route = {
        "message": "<route xmlns='http://jabberd.jabberstudio.org/ns/component/1.0' "
                   "from='a@localhost' to='x.localhost'>" + message + "</route>",
        "bounce": "<route xmlns='http://jabberd.jabberstudio.org/ns/component/1.0' "
                  "from='a@localhost' to='nobody.localhost' error='404'><iq id='1'/></route>",
        "broadcast": "<route xmlns='http://jabberd.jabberstudio.org/ns/component/1.0' "
                     "type='broadcast' from='x'><presence xmlns='jabber:client'/></route>",
        "empty": "<route xmlns='http://jabberd.jabberstudio.org/ns/component/1.0'/>",
        "not_route": message,
    }
    for name, data in route.items():
        write("route", name, data)
    xpath = {
        "chat": "/message[@type='chat']\n//body\n\0" + message,
        "disco": "/iq[@type='get']/disco:query\ncount(//*) > 2\n\0<iq type='get' id='1'>"
                 "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
        "or": "/message[@type='chat' or @type='normal']/body\n/presence[not(@type)]\n"
              "/*[starts-with(@id, 'm')]\n\0" + message,
        "functions": "//p:x[contains(., 'a')]\n/message[body='hi & bye']\n"
                     "boolean(/message/@to)\nstring(/message)\n\0<message xmlns='jabber:client' "
                     "to='x'><p:x xmlns:p='urn:p'>abc</p:x><body>hi &amp; bye</body></message>",
    }
    for name, data in xpath.items():
        write("xpath", name, data)
    # xpath_fast: bytes that steer the subset generator (one byte per choice), a few followed by
    # a NUL and a stanza's XML.
    rng = random.Random(16)
    for i in range(24):
        write("xpath_fast", "gen%02d" % i, bytes(rng.randrange(256) for _ in range(200)))
    stanzas = [
        message,
        "<message type='chat' id='a'><body>!cmd x</body><subject>a</subject></message>",
        "<message xmlns='jabber:client'><p:x xmlns:p='urn:p' id='ab'>a<y>b</y></p:x>"
        "<body>a</body><body>ab</body></message>",
        "<iq type='get'><q:y xmlns:q='urn:q'/><item xmlns='urn:p' id='a'/></iq>",
    ]
    for i, xml in enumerate(stanzas):
        steer = bytes(rng.randrange(256) for _ in range(120)).replace(b"\0", b"\1")
        write("xpath_fast", "xml%d" % i, steer + b"\0" + xml.encode())
    # Spelled out choice by choice (fuzz/fuzz_xpath_fast.cpp, SubsetGenerator): a split byte
    # giving every byte to the expression, one expression, a boolean, then its parts.
    # "starts-with(body,'a')" on a body "ab"; "body='ab'" on a body whose "b" is in a grandchild.
    write("xpath_fast", "starts_with", b"\xff" + bytes([4, 3, 4, 3, 3, 1, 1, 4, 1, 1, 1, 1, 1]) +
          b"\0<message><body>ab</body></message>")
    write("xpath_fast", "string_value", b"\xff" + bytes([4, 3, 1, 3, 3, 1, 1, 4, 1, 1, 1, 1, 2, 1]) +
          b"\0<message><body>a<i>b</i></body></message>")
    node = {
        "message": message,
        "mixed": "<a xmlns='urn:a' xmlns:b='urn:b'>x<b:c b:d='1'>y</b:c>z<e xmlns=''/></a>",
        "escapes": "<a t='&quot;&apos;&lt;&gt;&amp;&#9;&#10;&#13;'>&lt;&#13;]]&gt;</a>",
        "lang": "<m xml:lang='en'><body xml:lang='de'>Hallo</body></m>",
    }
    for name, data in node.items():
        write("node", name, data)

if __name__ == "__main__":
    sys.exit(main())
