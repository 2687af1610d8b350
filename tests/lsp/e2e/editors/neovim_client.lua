-- A headless Neovim session with the built-in LSP client against the flowscribe server.
--
-- Run as: nvim --headless --clean -l neovim_client.lua PYTHON WORKSPACE FILE FLOW_ID OUT
-- It opens FILE, starts `PYTHON -m flowscribe_lsp` on WORKSPACE with Neovim's own default
-- client capabilities (which offer utf-8 positions first), and at the first line naming
-- FLOW_ID asks for what a user sees there: diagnostics, hover, definition, references and
-- code lenses; then runs the first lens's command as `vim.lsp.codelens.run()` would. Every
-- answer is written raw (as the server sent it, in its units) to OUT as JSON, for the test
-- to judge. Columns Neovim itself reports (cursor, diagnostics) are bytes, 0-based.

local python, workspace, file, flow_id, out = unpack(arg)
local WAIT_MS = 20000
local result = { errors = {}, messages = {} }

local function done()
  local f = assert(io.open(out, "w"))
  f:write(vim.json.encode(result))
  f:close()
  vim.cmd("qall!")
end

local function fail(msg)
  table.insert(result.errors, msg)
  done()
end

-- What Neovim would print to the user ("does not support command ..."): kept for the test.
vim.notify = function(msg, level)
  table.insert(result.messages, { msg = msg, level = level })
end

-- The server opens locations through window/showDocument: record, then let Neovim do it.
local show_document = vim.lsp.handlers["window/showDocument"]
vim.lsp.handlers["window/showDocument"] = function(err, params, ctx, config)
  result.show_document = params
  return show_document(err, params, ctx, config)
end

vim.cmd.edit(vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local client_id = vim.lsp.start({
  name = "flowscribe",
  cmd = { python, "-m", "flowscribe_lsp" },
  root_dir = workspace,
  workspace_folders = { { uri = vim.uri_from_fname(workspace), name = "ws" } },
}, { bufnr = buf })
if not client_id then
  return fail("vim.lsp.start returned nil")
end
local client = vim.lsp.get_client_by_id(client_id)
if not vim.wait(WAIT_MS, function() return client.initialized end, 50) then
  return fail("the server never finished initialize")
end
result.offset_encoding = client.offset_encoding
result.execute_commands = (client.server_capabilities.executeCommandProvider or {}).commands

-- The flow id's line and byte column, found the way a user's cursor lands on it.
local line_nr, col
for n, text in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
  local at = text:find('"' .. flow_id .. '"', 1, true)
  if at then
    line_nr, col = n - 1, at -- `at` is 1-based on the quote: 0-based on the id's first byte
    break
  end
end
if not line_nr then
  return fail("no line names " .. flow_id)
end
result.flow_line, result.flow_col = line_nr, col

local function request(method, params)
  local answers, err = vim.lsp.buf_request_sync(buf, method, params, WAIT_MS)
  if not answers then
    table.insert(result.errors, method .. ": " .. tostring(err))
    return nil
  end
  local answer = answers[client_id]
  if answer and answer.err then
    table.insert(result.errors, method .. ": " .. vim.inspect(answer.err))
  end
  return answer and answer.result
end

local uri = vim.uri_from_bufnr(buf)
-- Two bytes into the id: after the non-ASCII text earlier on the line, in utf-8 units.
local pos = { textDocument = { uri = uri }, position = { line = line_nr, character = col + 2 } }

-- Diagnostics come once the server has read the run.
vim.wait(WAIT_MS, function()
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.source == "flowscribe.trace" then return true end
  end
  return false
end, 50)
result.diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  table.insert(result.diagnostics, {
    source = d.source, code = d.code, message = d.message,
    lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
    range = d.user_data and d.user_data.lsp and d.user_data.lsp.range,
  })
end

-- The hover: retried while the server is still reading the run's outcomes.
local hover
vim.wait(WAIT_MS, function()
  hover = request("textDocument/hover", pos)
  return hover ~= nil and hover.contents.value:find("latest run", 1, true) ~= nil
end, 100)
result.hover = hover
result.definition = request("textDocument/definition", pos)
result.references = request("textDocument/references", vim.tbl_extend("force", pos,
  { context = { includeDeclaration = true } }))

local lenses = request("textDocument/codeLens", { textDocument = { uri = uri } }) or {}
result.lenses = lenses
-- Lenses without a command are resolved first, as Neovim's codelens module does.
for i, lens in ipairs(lenses) do
  if not lens.command then
    lenses[i] = request("codeLens/resolve", lens) or lens
  end
end

-- Run the lens on the flow's line, as <cmd>lua vim.lsp.codelens.run()<cr> there would.
local lens
for _, l in ipairs(lenses) do
  if l.range.start.line == line_nr and l.command then lens = l end
end
if lens then
  result.ran_command = lens.command
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  client:exec_cmd(lens.command, { bufnr = buf })
  vim.wait(WAIT_MS, function()
    return result.show_document ~= nil or #result.messages > 0
  end, 50)
  -- Neovim handles window/showDocument after our wrapper returns: let it move the cursor.
  vim.wait(2000, function() return vim.api.nvim_win_get_cursor(0)[1] ~= 1 end, 50)
  local cursor = vim.api.nvim_win_get_cursor(0)
  result.after_command = {
    file = vim.api.nvim_buf_get_name(0),
    line = cursor[1] - 1,
    col = cursor[2],
  }
end

client:stop()
vim.wait(5000, function() return client:is_stopped() end, 50)
done()
