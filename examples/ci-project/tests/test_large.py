import unittest

import wordstats


class Large(unittest.TestCase):
    def test_many_words(self):
        text = "lorem ipsum dolor " * 50000
        self.assertEqual(wordstats.count(text), 150000)
        self.assertEqual(wordstats.top(text, 1), [("dolor", 50000)])
