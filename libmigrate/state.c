/* SPDX-License-Identifier: MIT */
/* placeholder: not written yet */
typedef int migrate__placeholder_state;
