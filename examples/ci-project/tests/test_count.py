import unittest

import wordstats


class Count(unittest.TestCase):
    def test_empty(self):
        self.assertEqual(wordstats.count(""), 0)

    def test_punctuation_is_not_a_word(self):
        self.assertEqual(wordstats.count("one, two; three."), 3)
