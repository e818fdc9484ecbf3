-- Each leaf of a reward's `requires` with the user's current value and its
-- target (liveops_requirement_leaves, migration 0040: the same counter
-- values and leaf function as the claim statement's requirement walk).
--
-- $1 requires, $2 the reward's namespace, $3 user id, $4 period key.
select path as "path!", kind as "kind!", name as "name!", counter_window,
       current as "current!", target as "target!"
from liveops_requirement_leaves($1, $2, $3, $4)
