local function risky(n)
  if n > 2 then error("too big: " .. n) end
  return n * 10
end
for i = 1, 4 do print(i, pcall(risky, i)) end
local ok, err = pcall(error, { code = 42 })
print("table error", ok, type(err), err.code)
print(xpcall(function() local t = nil; return t.x end, function(m) return "handled: " .. m end))
print(pcall(function()
  local _, e = pcall(error, "inner", 0)
  error("outer after " .. e, 0)
end))
local co = coroutine.wrap(function()
  for i = 1, 3 do coroutine.yield(i) end
  error("coroutine done", 0)
end)
print(co(), co(), co(), pcall(co))
print(string.format("%d pcalls later", select("#", pcall(error))))
error("uncaught at the end")
