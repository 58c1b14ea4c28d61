import unittest

import wordstats


class Words(unittest.TestCase):
    def test_lower_cases(self):
        self.assertEqual(wordstats.words("The CAT"), ["the", "cat"])

    def test_keeps_apostrophes(self):
        self.assertEqual(wordstats.words("don't stop"), ["don't", "stop"])
