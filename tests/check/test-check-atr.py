#!/usr/bin/env python3
# test-check-atr.py - "dualscd-check atr" end to end: JSON, text, errors
#
# Usage: test-check-atr.py PATH-TO-DUALSCD-CHECK
# Runs the built program and asserts exact output; exits non-zero on any
# failure (unittest's report says which).

import json
import subprocess
import sys
import unittest

PROGRAM = None

GOLDKEY = "3B 94 18 81 B1 80 7D 1F 03 19 C8 00 50 DC"
DESFIRE_SAM = ("3B DE 18 FF 81 F1 FE 43 00 3F 07 83 44 45 53 46 69 72 65 38 20"
               " 53 41 4D 2D 58 17")
YUBIKEY = "3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 40"
OPENPGP_V2 = "3B DA 18 FF 81 B1 FE 75 1F 03 00 31 C5 73 C0 01 40 00 90 00 0C"
T0_ONLY = "3B 02 14 50"


def run(*args):
    return subprocess.run([PROGRAM, *args], capture_output=True, text=True,
                          timeout=30)


def run_json(*hex_args):
    r = run("atr", "--json", *hex_args)
    if r.returncode != 0:
        raise AssertionError("exit %d: %s" % (r.returncode, r.stderr))
    if r.stderr:
        raise AssertionError("unexpected stderr: " + r.stderr)
    return json.loads(r.stdout)


def run_text(*hex_args):
    r = run("atr", *hex_args)
    if r.returncode != 0:
        raise AssertionError("exit %d: %s" % (r.returncode, r.stderr))
    return r.stdout


class Json(unittest.TestCase):
    maxDiff = None

    def test_goldkey_t15_classes_a_b(self):
        self.assertEqual(run_json(GOLDKEY), {
            "atr": "3B941881B1807D1F0319C80050DC",
            "length": 14,
            "convention": "direct",
            "protocols": [1],
            "t15_present": True,
            "interface_bytes": {"TA1": "18", "TD1": "81", "TD2": "B1",
                                "TA3": "80", "TB3": "7D", "TD3": "1F",
                                "TA4": "03"},
            "historical_bytes": "19C80050",
            "tck": "DC",
            "tck_ok": True,
            "fi": 372,
            "di": 12,
            "fmax_mhz": 5,
            "guard_time_n": 0,
            "specific_mode": False,
            "specific_protocol": None,
            "implicit_parameters": None,
            "mode_changeable": None,
            "wi": 10,
            "ifsc": 128,
            "bwi": 7,
            "cwi": 13,
            "edc": "LRC",
            "clock_stop": "not supported",
            "classes": ["A", "B"],
            "classes_rfu": False,
            "class_indicator": "03",
            "spu": None,
            "defaults": ["guard_time_n", "specific_mode", "wi", "edc"],
        })

    def test_desfire_sam_ta4_tb4(self):
        self.assertEqual(run_json(DESFIRE_SAM), {
            "atr": "3BDE18FF81F1FE43003F078344455346697265382053414D2D5817",
            "length": 27,
            "convention": "direct",
            "protocols": [1],
            "t15_present": True,
            "interface_bytes": {"TA1": "18", "TC1": "FF", "TD1": "81",
                                "TD2": "F1", "TA3": "FE", "TB3": "43",
                                "TC3": "00", "TD3": "3F", "TA4": "07",
                                "TB4": "83"},
            "historical_bytes": "44455346697265382053414D2D58",
            "tck": "17",
            "tck_ok": True,
            "fi": 372,
            "di": 12,
            "fmax_mhz": 5,
            "guard_time_n": 255,
            "specific_mode": False,
            "specific_protocol": None,
            "implicit_parameters": None,
            "mode_changeable": None,
            "wi": 10,
            "ifsc": 254,
            "bwi": 4,
            "cwi": 3,
            "edc": "LRC",
            "clock_stop": "not supported",
            "classes": ["A", "B", "C"],
            "classes_rfu": False,
            "class_indicator": "07",
            "spu": "83",
            "defaults": ["specific_mode", "wi"],
        })

    def test_yubikey(self):
        j = run_json(YUBIKEY)
        self.assertEqual(j["protocols"], [1])
        self.assertEqual(j["fi"], 372)
        self.assertEqual(j["di"], 4)
        self.assertEqual(j["ifsc"], 254)
        self.assertEqual(j["bwi"], 1)
        self.assertEqual(j["cwi"], 5)
        self.assertEqual(j["tck"], "40")
        self.assertIs(j["tck_ok"], True)
        self.assertIs(j["t15_present"], False)
        self.assertIsNone(j["clock_stop"])
        self.assertIsNone(j["classes"])
        self.assertEqual(bytes.fromhex(j["historical_bytes"])[-7:], b"YubiKey")
        self.assertEqual(j["defaults"], ["specific_mode", "wi", "edc"])

    def test_openpgp_card(self):
        j = run_json(OPENPGP_V2)
        self.assertEqual(j["interface_bytes"],
                         {"TA1": "18", "TC1": "FF", "TD1": "81", "TD2": "B1",
                          "TA3": "FE", "TB3": "75", "TD3": "1F", "TA4": "03"})
        self.assertEqual(j["classes"], ["A", "B"])
        self.assertEqual(j["clock_stop"], "not supported")
        self.assertEqual((j["bwi"], j["cwi"]), (7, 5))

    def test_t0_only_defaults(self):
        j = run_json(T0_ONLY)
        self.assertEqual(j["protocols"], [0])
        self.assertEqual(j["interface_bytes"], {})
        self.assertEqual(j["historical_bytes"], "1450")
        self.assertIsNone(j["tck"])
        self.assertIsNone(j["tck_ok"])
        self.assertEqual((j["fi"], j["di"], j["fmax_mhz"]), (372, 1, 5))
        self.assertEqual((j["ifsc"], j["bwi"], j["cwi"], j["edc"]),
                         (32, 4, 13, "LRC"))
        self.assertEqual(j["defaults"],
                         ["fi", "fmax_mhz", "di", "guard_time_n",
                          "specific_mode", "wi", "ifsc", "bwi", "cwi", "edc"])

    def test_specific_mode_and_inverse(self):
        j = run_json("3B 97 18 11 81 44 49 44 45 4D 01 07 58")
        self.assertIs(j["specific_mode"], True)
        self.assertEqual(j["specific_protocol"], 1)
        self.assertIs(j["mode_changeable"], False)
        self.assertIs(j["implicit_parameters"], False)
        j = run_json("3F 3F 94 00 80 69 AF 03 07 01 59 00 00 0A 0E 83 3E 9F 16")
        self.assertEqual(j["convention"], "inverse")
        self.assertEqual((j["fi"], j["di"]), (512, 8))

    def test_rfu_values(self):
        j = run_json("3B 10 A0")
        self.assertEqual((j["fi"], j["di"], j["fmax_mhz"]), (768, None, 7.5))
        j = run_json("3B 80 81 1F 3F 21")
        self.assertIs(j["classes_rfu"], True)
        self.assertEqual(j["class_indicator"], "3F")
        self.assertEqual(j["classes"], ["A", "B", "C"])

    def test_hex_spellings(self):
        want = run_json(GOLDKEY)
        self.assertEqual(run_json(*GOLDKEY.split()), want)
        self.assertEqual(run_json(GOLDKEY.replace(" ", "")), want)
        self.assertEqual(run_json(GOLDKEY.replace(" ", ":").lower()), want)
        self.assertEqual(run_json("3B9418", "81B1807D", "1F0319C80050DC"), want)
        self.assertEqual(run_json(" ".join("0x" + b for b in GOLDKEY.split())),
                         want)


class Text(unittest.TestCase):
    def test_goldkey(self):
        out = run_text(GOLDKEY)
        for line in [
                "TS  = 3B  direct convention",
                "T0  = 94  Y(1) = 9: TA1, TD1 follow; K = 4 historical bytes",
                "TA1 = 18  Fi = 372, Di = 12, f(max) = 5 MHz",
                "TD1 = 81  Y(2) = 8: TD2 follows; protocol T=1 offered",
                "TD2 = B1  Y(3) = B: TA3, TB3, TD3 follow; protocol T=1 offered",
                "TA3 = 80  T=1: IFSC = 128 bytes",
                "TB3 = 7D  T=1: BWI = 7, CWI = 13",
                "TD3 = 1F  Y(4) = 1: TA4 follows; T=15: global interface bytes",
                "TA4 = 03  T=15: clock stop not supported; classes A and B",
                "Historical bytes (4): 19 C8 00 50",
                "TCK = DC  (correct)",
                "Protocols offered: T=1\n",
                "Fi = 372, f(max) = 5 MHz, Di = 12\n",
                "Extra guard time: N = 0 (default)",
                "Mode: negotiable (default)",
                "T=0: WI = 10 (default)",
                "T=1: IFSC = 128, BWI = 7, CWI = 13, EDC = LRC (default)\n",
                "T=15: clock stop not supported, classes A and B (5 V, 3 V)"]:
            self.assertIn(line, out)

    def test_desfire_sam(self):
        out = run_text(DESFIRE_SAM)
        for line in [
                "TC1 = FF  N = 255: minimum guard time",
                "TC3 = 00  T=1: error detection code LRC",
                "TA4 = 07  T=15: clock stop not supported; classes A, B and C",
                "TB4 = 83  T=15: contact C6 (SPU) used, coded 83",
                "Extra guard time: N = 255\n",
                "EDC = LRC\n",
                '"DESFire8 SAM-X"']:
            self.assertIn(line, out)

    def test_t0_only(self):
        out = run_text(T0_ONLY)
        self.assertIn("No TCK (only T=0 offered)", out)
        self.assertIn("Protocols offered: T=0 (implied: no TD1)", out)
        self.assertIn("Fi = 372 (default), f(max) = 5 MHz (default), "
                      "Di = 1 (default)", out)
        self.assertIn("T=15: clock stop and classes not indicated", out)
        self.assertEqual(out.count("(default)"), 10)


class Errors(unittest.TestCase):
    def assert_fails(self, args, message, status=1):
        for extra in ([], ["--json"]):
            r = run("atr", *extra, *args)
            self.assertEqual(r.returncode, status, r.stderr)
            self.assertEqual(r.stdout, "")
            self.assertIn(message, r.stderr)
            self.assertTrue(r.stderr.startswith("dualscd-check atr: "))

    def test_truncated(self):
        self.assert_fails(["3B 94 18 81 B1 80 7D"],
                          "malformed ATR at offset 7 (TS is offset 0): TD2 = B1 "
                          "says TA3, TB3, TD3 follow but the ATR ends after 7 "
                          "bytes")
        self.assert_fails(["3B 94 18 81 B1 80 7D 1F 03 19 C8"],
                          "T0 = 94 says K = 4 historical bytes but the ATR ends "
                          "after 2 of them")
        self.assert_fails(["3B"], "the ATR ends after TS; T0 is missing")

    def test_missing_tck(self):
        self.assert_fails([GOLDKEY[:-3]],
                          "offset 13 (TS is offset 0): TD1 = 81 offers T=1, so "
                          "a TCK must end the ATR")

    def test_wrong_tck(self):
        self.assert_fails([GOLDKEY[:-2] + "1F"],
                          "offset 13 (TS is offset 0): TCK is 1F, expected DC")
        self.assert_fails([DESFIRE_SAM[:-2] + "16"], "TCK is 16, expected 17")

    def test_extra_bytes(self):
        self.assert_fails(["3B 02 14 50 11"],
                          "offset 4 (TS is offset 0): extra bytes: the ATR should "
                          "end after 4 bytes (only T=0 is offered, so no TCK) but "
                          "has 5")
        self.assert_fails([GOLDKEY + " 00"], "extra bytes")

    def test_inconsistent_td(self):
        self.assert_fails(["3B 81 1F 00 CC 52"],
                          "offset 2 (TS is offset 0): TD1 = 1F names T=15, but "
                          "TD1 must name the first protocol offered")

    def test_bad_values(self):
        self.assert_fails(["3B 80 81 11 FF EF"],
                          "TA3 = FF: IFSC for T=1 must be 01 to FE")
        self.assert_fails(["3C 00"], "TS is 3C, not 3B (direct convention) or "
                          "3F (inverse convention)")
        self.assert_fails(["03 00"], "inverse-convention ATR read as direct")

    def test_too_long(self):
        self.assert_fails(["3B" + "80" * 40],
                          "TD31 = 80 says TD32 follows, which would make the "
                          "ATR longer than the 33 bytes")
        self.assert_fails(["3B" * 70], "more than 66 bytes of hex")

    def test_bad_hex(self):
        self.assert_fails(["3B 9G"], 'bad hex in argument 1 "3B 9G": character '
                          "5 ('G') is not a hex digit")
        self.assert_fails(["3B", "941"], 'bad hex in argument 2 "941": odd '
                          "number of hex digits")
        self.assert_fails(["3B 9 4"], "character 5 (' ') is not a hex digit")

    def test_empty(self):
        self.assert_fails([""], "the ATR is empty")
        self.assert_fails([" : "], "the ATR is empty")


class Usage(unittest.TestCase):
    def test_usage_errors(self):
        # No argument at all runs the diagnosis (test-check-diagnose.py).
        for args in (["atr"], ["atr", "--json"], ["atr", "--bogus", "3B00"],
                     ["nosuch"], ["--bogus"]):
            r = run(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stdout, "", args)
            self.assertIn("dualscd-check", r.stderr)

    def test_help_and_version(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("atr [--json] HEX...", r.stdout)
        r = run("atr", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--json", r.stdout)
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^dualscd-check \(dualscd\) \d+\.\d+")

    def test_double_dash(self):
        r = run("atr", "--", "3B00")
        self.assertEqual(r.returncode, 0)
        self.assertIn("TS  = 3B", r.stdout)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test-check-atr.py PATH-TO-DUALSCD-CHECK")
    PROGRAM = sys.argv[1]
    unittest.main(argv=[sys.argv[0]], verbosity=2)
