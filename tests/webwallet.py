"""The test wallet injected into the page as an EIP-1193 provider (tests/test_web.py, bench/web_fetch.py), and the
Chromium flags for a closed network."""

from __future__ import annotations

import json

from eth_account import Account
from eth_account.messages import encode_defunct

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

WALLET_JS = """
(() => {
  const listeners = {};
  window.ethereum = {
    isInjectedWallet: true,
    on(ev, fn) { (listeners[ev] = listeners[ev] || []).push(fn); },
    removeListener() {},
    async request({ method, params }) {
      const out = JSON.parse(await window.__testWallet(method, JSON.stringify(params || [])));
      if (out.error) {
        const e = new Error(out.error.message);
        e.code = out.error.code;
        e.data = out.error.data;
        throw e;
      }
      return out.result;
    },
  };
})();
"""


class InjectedWallet:
    """What MetaMask would do, for one local-chain key: accounts, chain switching, personal_sign and legacy
    transactions signed here and sent raw; everything else goes to the node."""

    def __init__(self, w3, private_key: bytes, chain_id: int):
        self.w3 = w3
        self.account = Account.from_key(private_key)
        self.chain_id = chain_id
        self.current_chain = 30  # the wallet starts on another network: the page must switch (and add) it
        self.known_chains = {30}
        self.connected = False
        self.calls: list[str] = []
        self.sent: list[dict] = []

    def use(self, private_key: bytes) -> None:
        self.account = Account.from_key(private_key)

    def handle(self, method: str, params_json: str) -> str:
        params = json.loads(params_json)
        self.calls.append(method)
        try:
            return json.dumps({"result": self._handle(method, params)})
        except _Rpc as exc:
            return json.dumps({"error": exc.error})

    def _handle(self, method: str, params: list):
        if method == "eth_requestAccounts":
            self.connected = True
            return [self.account.address]
        if method == "eth_accounts":
            return [self.account.address] if self.connected else []
        if method == "eth_chainId":
            return hex(self.current_chain)
        if method == "wallet_switchEthereumChain":
            wanted = int(params[0]["chainId"], 16)
            if wanted not in self.known_chains:
                raise _Rpc({"code": 4902, "message": "Unrecognized chain ID"})
            self.current_chain = wanted
            return None
        if method == "wallet_addEthereumChain":
            c = params[0]
            assert c["nativeCurrency"]["decimals"] == 18 and c["chainName"] and c["rpcUrls"], c
            self.known_chains.add(int(c["chainId"], 16))
            return None
        if method == "personal_sign":
            assert params[1].lower() == self.account.address.lower()
            signed = self.account.sign_message(encode_defunct(hexstr=params[0]))
            return "0x" + bytes(signed.signature).hex()
        if method == "eth_sendTransaction":
            tx = params[0]
            if self.current_chain != self.chain_id:
                raise _Rpc({"code": 4100, "message": "wrong network"})
            assert tx.get("type") == "0x0" and "gasPrice" in tx and "maxFeePerGas" not in tx, tx
            fields = {
                "to": tx["to"], "value": int(tx.get("value", "0x0"), 16), "data": tx.get("data", "0x"),
                "gas": int(tx["gas"], 16), "gasPrice": int(tx["gasPrice"], 16), "chainId": self.chain_id,
                "nonce": int(tx["nonce"], 16) if "nonce" in tx
                else self.w3.eth.get_transaction_count(self.account.address, "pending"),
            }
            signed = self.account.sign_transaction(fields)
            self.sent.append(fields)
            return "0x" + bytes(self.w3.eth.send_raw_transaction(signed.raw_transaction)).hex()
        resp = self.w3.provider.make_request(method, params)
        if "error" in resp:
            raise _Rpc(dict(resp["error"]))
        return resp["result"]


class _Rpc(Exception):
    def __init__(self, error: dict):
        super().__init__(error.get("message"))
        self.error = error
