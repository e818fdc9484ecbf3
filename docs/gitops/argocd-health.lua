-- Argo CD health for liveops.dev kinds (Event, Reward, WebhookEndpoint):
-- reads the kstatus conditions every kind carries, so one script serves all.
--   Stalled=True                       -> Degraded (edit the spec)
--   status behind metadata.generation  -> Progressing (operator not there yet)
--   Reconciling=True                   -> Progressing (retrying or waiting)
--   Ready=True                         -> Healthy (Suspended and Ended events too)
--   anything else, or no status yet    -> Progressing
local hs = { status = "Progressing", message = "Waiting for the liveops operator to report status" }
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
local generation = obj.metadata and obj.metadata.generation
local function current(c)
  return generation == nil or c.observedGeneration == nil or c.observedGeneration >= generation
end
local found = {}
for _, c in ipairs(obj.status.conditions) do
  if current(c) then
    found[c.type] = c
  end
end
local function describe(c)
  if c.message ~= nil and c.message ~= "" then
    return c.reason .. ": " .. c.message
  end
  return c.reason
end
local stalled, reconciling, ready = found["Stalled"], found["Reconciling"], found["Ready"]
if stalled ~= nil and stalled.status == "True" then
  return { status = "Degraded", message = describe(stalled) }
end
if generation ~= nil and obj.status.observedGeneration ~= nil and obj.status.observedGeneration < generation then
  hs.message = "The operator has not observed generation " .. generation .. " yet"
  return hs
end
if reconciling ~= nil and reconciling.status == "True" then
  return { status = "Progressing", message = describe(reconciling) }
end
if ready ~= nil and ready.status == "True" then
  return { status = "Healthy", message = describe(ready) }
end
if ready ~= nil then
  hs.message = describe(ready)
end
return hs
