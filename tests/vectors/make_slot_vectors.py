"""Generate tests/vectors/slots.json: packed storage words and their fields, for every codec of contracts/types/.

The layouts below are copied from the tables in the Solidity codecs' comments, written out here independently of
datalicense.protocol.slots; the vectors are checked against the Python codecs (tests/test_slots.py) and against
the Solidity codecs on a real chain (tests/test_slot_codecs.py).

    python tests/vectors/make_slot_vectors.py > tests/vectors/slots.json

Per codec: all zero, each field alone at its largest value (catches overlapping or shifted fields), every field
at its largest value, and two seeded random records.
"""

import json
import random
import sys

# codec -> [(field, first bit, width, largest value or None for the width's)]
LAYOUTS = {
    "LicenceWord": [("holder", 0, 160, None), ("termsId", 160, 32, None), ("stamp", 192, 40, None),
                    ("state", 232, 8, 6), ("settingsId", 240, 16, None)],
    "DatasetWord": [("owner", 0, 160, None), ("termsId", 160, 32, None), ("sold", 192, 32, None),
                    ("version", 224, 32, None)],
    "TermsWord": [("price", 0, 96, None), ("datasetId", 96, 32, None), ("assetId", 128, 16, None),
                  ("duration", 144, 32, None), ("deliveryWindow", 176, 24, None), ("disputeWindow", 200, 24, None),
                  ("flags", 224, 8, None), ("supplyCap", 232, 24, None)],
    "SettingsWord": [("feeBps", 0, 16, None), ("disputeBond", 16, 96, None)],
    "CountersWord": [("lastLicenceId", 0, 64, None), ("lastDatasetId", 64, 32, None), ("lastTermsId", 96, 32, None),
                     ("settingsId", 128, 16, None), ("emergencyPaused", 144, 8, 1)],
    "ArbiterWord": [("arbiter", 0, 160, None), ("assetCount", 160, 16, None)],
    "DeliveryRecord": [("body", 0, 224, None), ("version", 224, 32, None)],
    "DisputeRecord": [("bond", 0, 96, None), ("openedAt", 96, 160, None)],
    "AssetSlot": [("allowed", 0, 1, None), ("assetId", 1, 255, None)],
    "ClaimRecord": [("claimed", 0, 128, None), ("share", 128, 126, None), ("revoked", 254, 1, None),
                    ("settled", 255, 1, None)],
}
BOOLS = {"emergencyPaused", "allowed", "revoked", "settled"}


def largest(width, top):
    return (1 << width) - 1 if top is None else top


def vector(layout, values):
    word = 0
    for name, shift, width, top in layout:
        assert 0 <= values[name] <= largest(width, top)
        word |= values[name] << shift
    fields = {name: (bool(values[name]) if name in BOOLS else hex(values[name])) for name, *_ in layout}
    return {"word": "0x" + word.to_bytes(32, "big").hex(), "fields": fields}


def main():
    rng = random.Random(22)
    out = {}
    for codec, layout in LAYOUTS.items():
        records = [{name: 0 for name, *_ in layout}]
        for name, _, width, top in layout:
            records.append({n: (largest(width, top) if n == name else 0) for n, *_ in layout})
        records.append({name: largest(width, top) for name, _, width, top in layout})
        for _ in range(2):
            records.append({name: rng.randint(0, largest(width, top)) for name, _, width, top in layout})
        out[codec] = [vector(layout, r) for r in records]
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
