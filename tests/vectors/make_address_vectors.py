"""Generate tests/vectors/addresses.json: addresses as people type them, and what every parser of the project (the
Python one, datalicense/protocol/addresses.py, and the page's, web/src/addresses.js) must make of them on a chain.

The rule: 0x and 40 hex digits; all lower or all upper case is taken as is; mixed case must be the EIP-55 checksum,
or the EIP-1191 checksum of the chain given (of Rootstock mainnet 30 or testnet 31 when no chain is given). The
checksums here come from eth_utils (EIP-55) and from the chain-id variant written out below, not from the package;
the EIP-1191 anchors are the test cases published with EIP-1191 itself.

    python tests/vectors/make_address_vectors.py > tests/vectors/addresses.json
"""

import json

from eth_utils import keccak, to_checksum_address

# EIP-1191's own test cases (chain 30 and chain 31) of EIP-55's four addresses
EIP1191_PUBLISHED = {
    30: ["0x5aaEB6053f3e94c9b9a09f33669435E7ef1bEAeD", "0xFb6916095cA1Df60bb79ce92cE3EA74c37c5d359",
         "0xDBF03B407c01E7CD3cBea99509D93F8Dddc8C6FB", "0xD1220A0Cf47c7B9BE7a2e6ba89F429762E7B9adB"],
    31: ["0x5aAeb6053F3e94c9b9A09F33669435E7EF1BEaEd", "0xFb6916095CA1dF60bb79CE92ce3Ea74C37c5D359",
         "0xdbF03B407C01E7cd3cbEa99509D93f8dDDc8C6fB", "0xd1220a0CF47c7B9Be7A2E6Ba89f429762E7b9adB"],
}
ADDRESSES = [a.lower() for a in EIP1191_PUBLISHED[30]] + [
    "0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc",  # dev:5 of the local chain
    "0x14dc79964da2c08b23698b3d3cc7ca32193d9955",  # dev:7
]
CHAINS = [30, 31, 33, None]


def chain_checksum(address: str, chain_id: int) -> str:
    body = address[2:].lower()
    digest = keccak((f"{chain_id}0x{body}").encode()).hex()
    return "0x" + "".join(c.upper() if c.isalpha() and int(digest[i], 16) > 7 else c for i, c in enumerate(body))


def accepted(spelling: str, chain_id) -> bool:
    body = spelling[2:]
    if body in (body.lower(), body.upper()):
        return True
    ok = {to_checksum_address(spelling)}
    ok |= {chain_checksum(spelling, c) for c in ((30, 31) if chain_id is None else (chain_id,))}
    return spelling in ok


def flip_one(spelling: str) -> str:
    """The same address with the case of its last letter flipped (a checksum typo)."""
    i = max(i for i, c in enumerate(spelling) if i > 1 and c.isalpha())
    return spelling[:i] + spelling[i].swapcase() + spelling[i + 1:]


def mistype(spelling: str) -> str:
    """Another address: the first digit of the body changed, the casing kept (a typo in a checksummed address)."""
    i = next(i for i, c in enumerate(spelling) if i > 1 and c.isdigit())
    return spelling[:i] + str((int(spelling[i]) + 1) % 10) + spelling[i + 1:]


def main() -> None:
    for chain_id, published in EIP1191_PUBLISHED.items():
        assert [chain_checksum(a, chain_id) for a in published] == published, chain_id
    cases = []

    def case(text, chain_id, note):
        shaped = (text.strip().startswith("0x") and len(text.strip()) == 42
                  and all(c in "0123456789abcdefABCDEF" for c in text.strip()[2:]))
        if not shaped:
            cases.append({"input": text, "chainId": chain_id, "ok": False, "error": "syntax", "note": note})
        elif accepted(text.strip(), chain_id):
            cases.append({"input": text, "chainId": chain_id, "ok": True,
                          "address": to_checksum_address(text.strip()), "note": note})
        else:
            cases.append({"input": text, "chainId": chain_id, "ok": False, "error": "checksum", "note": note})

    for a in ADDRESSES:
        spellings = {"lower case": a, "upper case": "0x" + a[2:].upper(), "EIP-55": to_checksum_address(a),
                     "EIP-1191 chain 30": chain_checksum(a, 30), "EIP-1191 chain 31": chain_checksum(a, 31),
                     "EIP-1191 chain 33": chain_checksum(a, 33)}
        for name, spelling in spellings.items():
            for chain_id in CHAINS:
                case(spelling, chain_id, name)
        for chain_id in CHAINS:
            case(flip_one(to_checksum_address(a)), chain_id, "EIP-55, one letter's case flipped")
            case(mistype(to_checksum_address(a)), chain_id, "EIP-55, one digit mistyped")
            case(mistype(chain_checksum(a, 30)), chain_id, "EIP-1191 chain 30, one digit mistyped")
    for text, note in [(" 0x" + ADDRESSES[0][2:] + " ", "spaces around"), (ADDRESSES[0][2:], "no 0x"),
                       ("0X" + ADDRESSES[0][2:], "0X"), (ADDRESSES[0][:-1], "39 digits"),
                       (ADDRESSES[0] + "0", "41 digits"), (ADDRESSES[0][:-1] + "g", "not hex"), ("", "empty")]:
        case(text, 30, note)
    print(json.dumps(cases, indent=1))


if __name__ == "__main__":
    main()
