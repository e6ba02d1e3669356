import unittest

from timefmt import format_duration, parse_duration


class ParseDuration(unittest.TestCase):
    def test_units(self) -> None:
        self.assertEqual(parse_duration("45s"), 45)
        self.assertEqual(parse_duration("1h30m"), 5400)
        self.assertEqual(parse_duration(" 2H5S "), 7205)

    def test_rejects_garbage(self) -> None:
        for bad in ("", "5", "1x", "1h 30m", "h1"):
            with self.assertRaises(ValueError, msg=bad):
                parse_duration(bad)


class FormatDuration(unittest.TestCase):
    def test_small(self) -> None:
        self.assertEqual(format_duration(0), "0s")
        self.assertEqual(format_duration(59), "59s")
        self.assertEqual(format_duration(60), "1m")
        self.assertEqual(format_duration(125), "2m5s")

    def test_hours(self) -> None:
        self.assertEqual(format_duration(3661), "1h1m1s")
        self.assertEqual(format_duration(7200), "2h")
        self.assertEqual(format_duration(3725), "1h2m5s")

    def test_round_trip(self) -> None:
        for seconds in (1, 61, 3599, 3600, 86399):
            self.assertEqual(parse_duration(format_duration(seconds)), seconds)


if __name__ == "__main__":
    unittest.main()
