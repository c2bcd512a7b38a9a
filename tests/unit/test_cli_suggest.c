/*
 * test_cli_suggest.c - the CLI's "did you mean" (src/cli/suggest.c, compiled in
 * here: the CLI is no library): the edit distance with neighbour swaps, and which
 * candidates are suggested for a word (nearest ones, ties listed, nothing when
 * everything is far, a beginning of a candidate).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli/suggest.c"

static void edit_distance(void **state)
{
    (void)state;
    assert_int_equal(cli_edit_distance("show", "show"), 0);
    assert_int_equal(cli_edit_distance("shwo", "show"), 1); /* a swap is one edit */
    assert_int_equal(cli_edit_distance("migrat", "migrate"), 1);
    assert_int_equal(cli_edit_distance("null-value", "null-values"), 1);
    assert_int_equal(cli_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(cli_edit_distance("", "abc"), 3);
    assert_int_equal(cli_edit_distance("ca", "abc"), 3); /* OSA: no edit of a swapped pair */
}

static void suggestions(void **state)
{
    (void)state;
    static const char *const cmds[] = {"collections", "plan",   "migrate", "verify",
                                       "jobs",        "worker", "serve",   "help"};
    static const char *const subs[] = {"list",   "show",  "logs",   "cancel",
                                       "resume", "retry", "restart"};
    char out[256];
    assert_int_equal(cli_suggest("migrat", cmds, 8, NULL, out, sizeof out), 1);
    assert_string_equal(out, "'migrate'");
    assert_int_equal(cli_suggest("shwo", subs, 7, NULL, out, sizeof out), 1);
    assert_string_equal(out, "'show'");
    assert_int_equal(cli_suggest("retsart", subs, 7, NULL, out, sizeof out), 1);
    assert_string_equal(out, "'restart'");
    /* ties are all named */
    static const char *const near[] = {"show", "shaw", "shed", "list"};
    assert_int_equal(cli_suggest("shew", near, 4, NULL, out, sizeof out), 1);
    assert_string_equal(out, "'show', 'shaw' or 'shed'");
    assert_int_equal(cli_suggest("lgs", subs, 7, NULL, out, sizeof out), 1);
    assert_string_equal(out, "'logs'"); /* 1 edit; 'list' is 2 */
    /* nothing near: no suggestion */
    assert_int_equal(cli_suggest("frobnicate", cmds, 8, NULL, out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(cli_suggest("xy", subs, 7, NULL, out, sizeof out), 0);
    /* the beginning of a candidate */
    assert_int_equal(cli_suggest("coll", cmds, 8, NULL, out, sizeof out), 1);
    assert_string_equal(out, "'collections'");
    static const char *const opts[] = {"null-values", "payload-conflict", "target-name"};
    assert_int_equal(cli_suggest("null-value", opts, 3, "--", out, sizeof out), 1);
    assert_string_equal(out, "'--null-values'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(edit_distance),
        cmocka_unit_test(suggestions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
