import unittest

import wordstats


class Top(unittest.TestCase):
    def test_most_common_first(self):
        self.assertEqual(wordstats.top("b a b c b a", 2), [("b", 3), ("a", 2)])

    def test_ties_alphabetical(self):
        self.assertEqual(wordstats.top("y x", 2), [("x", 1), ("y", 1)])
