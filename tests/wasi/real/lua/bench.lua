-- A mixed workload (our own; `bench.sh` runs it): recursion, float loops, strings, tables, closures, file I/O.
local n = tonumber(arg[1]) or 1

local function fib(k) if k < 2 then return k end return fib(k - 1) + fib(k - 2) end
print("fib(27) = " .. fib(27))

-- spectral norm
local function A(i, j) local ij = i + j - 1 return 1.0 / (ij * (ij - 1) * 0.5 + i) end
local function Av(x, y, N) for i = 1, N do local a = 0 for j = 1, N do a = a + x[j] * A(i, j) end y[i] = a end end
local function Atv(x, y, N) for i = 1, N do local a = 0 for j = 1, N do a = a + x[j] * A(j, i) end y[i] = a end end
local function AtAv(x, y, t, N) Av(x, t, N) Atv(t, y, N) end
local N = 100 * n
local u, v, t = {}, {}, {}
for i = 1, N do u[i] = 1 end
for _ = 1, 10 do AtAv(u, v, t, N) AtAv(v, u, t, N) end
local vBv, vv = 0, 0
for i = 1, N do local ui, vi = u[i], v[i] vBv = vBv + ui * vi vv = vv + vi * vi end
print(string.format("spectral norm = %0.9f", math.sqrt(vBv / vv)))

-- strings and tables
local words = {}
for i = 1, 20000 * n do words[#words + 1] = string.format("w%05d", (i * 7919) % 20011) end
table.sort(words)
local s = table.concat(words, " ", 1, 5)
print("sorted head: " .. s)
local text = string.rep("the quick brown fox jumps over the lazy dog ", 2000)
local count = 0
for w in text:gmatch("%a+") do if #w > 3 then count = count + 1 end end
print("long words: " .. count, "upper: " .. text:sub(1, 19):upper())
local replaced = text:gsub("fox", "cat")
print("gsub len: " .. #replaced)

-- closures
local function counter() local c = 0 return function() c = c + 1 return c end end
local f = counter() for _ = 1, 100000 do f() end
print("counter: " .. f())

-- file I/O inside the preopen (when there is one)
local path = arg[2]
if path then
  local fh = assert(io.open(path, "w"))
  for i = 1, 1000 do fh:write(i, "\n") end
  fh:close()
  local sum = 0
  for line in io.lines(path) do sum = sum + tonumber(line) end
  print("file sum: " .. sum)
  os.remove(path)
  print("removed: " .. tostring(io.open(path) == nil))
end
print("pcall ok: " .. tostring(pcall(function() return 1 end)))
