/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A shared object without the descriptor symbol. */
#include <gmodule.h>
G_MODULE_EXPORT int tp_nosym_answer(void);
G_MODULE_EXPORT int tp_nosym_answer(void) { return 42; }
