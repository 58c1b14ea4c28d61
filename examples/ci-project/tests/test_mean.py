import unittest

import wordstats


class MeanLength(unittest.TestCase):
    def test_no_words(self):
        self.assertEqual(wordstats.mean_length("..."), 0.0)

    def test_mean(self):
        self.assertAlmostEqual(wordstats.mean_length("ab abcd"), 3.0)
