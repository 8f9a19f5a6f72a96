-- mirror.lua: Wireshark/tshark Lua postdissector for the mirrortest write
-- mirroring commands (wire profile v1, see mirror-protocol(7)).
--
-- Wireshark decodes opcode 0x3C as READ BUFFER and 0xA0 as REPORT LUNS and has
-- no SCSI opcode dissector table to hook into, so this is a postdissector over
-- Wireshark's own iSCSI dissection: for every iSCSI PDU in a frame it reads
-- the PDU's bytes (the range of the "iscsi" protocol item, which is the
-- reassembled PDU when it spans TCP segments) and, for data-out commands
-- whose opcode is a mirror opcode, adds a "Mirror" tree:
--
--   * SCSI Command PDU: the command (notification / small write A->B /
--     small write B->A) and, for the small CDB, every field: cache element
--     index high, block counts, volume, low/low2, LBA, and the derived
--     descriptors and NVRAM byte addresses;
--   * the metadata message (1024 bytes at buffer offset 0 of a notification
--     command: the first Data-Out, or the immediate data of the command):
--     type, length, sequence, LBA, blocks, array serial, region, array
--     number, and the S/G elements up to the terminator;
--   * other Data-Out PDUs of a mirror command: offset and length of the
--     user data they carry.
--
-- Use:  tshark -X lua_script:dissector/mirror.lua -d tcp.port==PORT,iscsi ...
--       or copy it to the Wireshark personal plugins folder.
-- Display filter: "mirror"; fields: see the ProtoField list below.
-- Preferences (Edit > Preferences > Protocols > MIRROR, or
-- -o mirror.notify_opcode:0xC1): the three opcodes and the small CDB layout.

-- Loaded twice (the installed plugin, then -X lua_script: naming a copy, or
-- two plugin folders), the second Proto() would fail on the duplicate name
-- and abort the load: the first copy serves and the second says so.  Each
-- script runs in its own environment: the mark goes into the shared _G.
if rawget(_G, "mirrortest_mirror_lua") then
	print("mirror.lua: already loaded from " .. _G.mirrortest_mirror_lua .. "; this copy is not used")
	return
end
_G.mirrortest_mirror_lua = (debug.getinfo(1, "S").source:gsub("^@", ""))

local mirror = Proto("mirror", "Mirror write protocol (mirrortest wire profile v1)")

------------------------------------------------------------------------------
-- fields
------------------------------------------------------------------------------
local F = {
	kind          = ProtoField.string("mirror.kind", "Command"),
	pdu           = ProtoField.string("mirror.pdu", "PDU"),
	opcode        = ProtoField.uint8("mirror.opcode", "Opcode", base.HEX),
	itt           = ProtoField.uint32("mirror.itt", "Initiator task tag", base.HEX),
	command_frame = ProtoField.framenum("mirror.command_frame", "Command in frame"),
	edtl          = ProtoField.uint32("mirror.expected_length", "Expected data transfer length", base.DEC),

	cei_high      = ProtoField.uint8("mirror.small.cei_high", "Cache element index high (descriptor bits 19-16)", base.HEX),
	hi1           = ProtoField.uint8("mirror.small.hi1", "Descriptor 1 bits 17-16", base.HEX),
	hi2           = ProtoField.uint8("mirror.small.hi2", "Descriptor 2 bits 17-16", base.HEX),
	bc1           = ProtoField.uint8("mirror.small.bc1", "Element 1 block count", base.DEC),
	bc2           = ProtoField.uint8("mirror.small.bc2", "Element 2 block count", base.DEC),
	bc3           = ProtoField.uint8("mirror.small.bc3", "Element 3 block count", base.DEC),
	bc4           = ProtoField.uint8("mirror.small.bc4", "Element 4 block count", base.DEC),
	volume        = ProtoField.uint8("mirror.small.volume", "Volume number", base.DEC),
	low1          = ProtoField.uint16("mirror.small.low1", "Cache element index low (descriptor 1)", base.HEX),
	low2          = ProtoField.uint16("mirror.small.low2", "Cache element index low2 (descriptor 2)", base.HEX),
	low3          = ProtoField.uint16("mirror.small.low3", "Cache element index low3 (descriptor 3)", base.HEX),
	low4          = ProtoField.uint16("mirror.small.low4", "Cache element index low4 (descriptor 4)", base.HEX),
	desc          = ProtoField.uint32("mirror.small.descriptor", "Descriptor (NVRAM address / 512)", base.HEX),
	nvram_addr    = ProtoField.uint32("mirror.small.nvram_addr", "NVRAM byte address", base.HEX),
	elem_bytes    = ProtoField.uint32("mirror.small.bytes", "Element bytes", base.DEC),

	lba           = ProtoField.uint32("mirror.lba", "Starting LBA", base.DEC),
	blocks        = ProtoField.uint32("mirror.blocks", "Number of blocks", base.DEC),

	md_type       = ProtoField.uint16("mirror.md.type", "Message type", base.HEX),
	md_length     = ProtoField.uint16("mirror.md.length", "Message length", base.DEC),
	md_sequence   = ProtoField.uint32("mirror.md.sequence", "Sequence number", base.DEC),
	md_serial     = ProtoField.uint64("mirror.md.array_serial", "Array serial number", base.HEX),
	md_region     = ProtoField.uint8("mirror.md.region", "Memory region", base.DEC),
	md_array      = ProtoField.uint8("mirror.md.array_number", "Array number", base.DEC),
	md_pad        = ProtoField.bytes("mirror.md.pad", "Pad"),
	sg_count      = ProtoField.uint8("mirror.sg.count", "S/G elements used", base.DEC),
	sg_addr       = ProtoField.uint32("mirror.sg.addr", "NVRAM byte address", base.HEX),
	sg_bytes      = ProtoField.uint32("mirror.sg.bytes", "Byte count", base.DEC),

	data_offset   = ProtoField.uint32("mirror.data.offset", "User data buffer offset", base.DEC),
	data_length   = ProtoField.uint32("mirror.data.length", "User data bytes in this PDU", base.DEC),
}
local fieldlist = {}
for _, f in pairs(F) do fieldlist[#fieldlist + 1] = f end
mirror.fields = fieldlist

local E = {
	length   = ProtoExpert.new("mirror.expert.length", "Data length disagrees with the CDB or metadata",
	                           expert.group.PROTOCOL, expert.severity.ERROR),
	malformed = ProtoExpert.new("mirror.expert.malformed", "Malformed mirror field",
	                           expert.group.MALFORMED, expert.severity.ERROR),
	notify_bytes = ProtoExpert.new("mirror.expert.notify_bytes", "Notification CDB bytes 1-9 not zero",
	                           expert.group.PROTOCOL, expert.severity.WARN),
	control  = ProtoExpert.new("mirror.expert.control_hazard", "Last CDB byte (LBA low byte) has NACA or LINK set",
	                           expert.group.PROTOCOL, expert.severity.WARN),
}
mirror.experts = { E.length, E.malformed, E.notify_bytes, E.control }

------------------------------------------------------------------------------
-- preferences
------------------------------------------------------------------------------
local LAYOUT_20, LAYOUT_18, LAYOUT_16 = 1, 2, 3
mirror.prefs.notify_opcode = Pref.string("Notification opcode", "0x3C",
	"Opcode of the notification CDB (large path); 0x3C in v1, 0xC1 in the vendor profile")
mirror.prefs.a2b_opcode = Pref.string("Small write A->B opcode", "0xA0",
	"Opcode of the small write CDB from controller A to B (region 0)")
mirror.prefs.b2a_opcode = Pref.string("Small write B->A opcode", "0xB0",
	"Opcode of the small write CDB from controller B to A (region 1)")
mirror.prefs.layout = Pref.enum("Small CDB layout", LAYOUT_20,
	"Layout of the small write CDB (wire profile)", {
		{ 1, "12-byte, 20-bit descriptors (v1)", LAYOUT_20 },
		{ 2, "12-byte, 18-bit descriptors (v1-18bit)", LAYOUT_18 },
		{ 3, "16-byte, 20-bit descriptors, 4 elements (v1-cdb16)", LAYOUT_16 },
	}, false)

local function parse_opcode(s, default)
	local v = tonumber(s)
	if v == nil or v < 0 or v > 255 or v ~= math.floor(v) then return default end
	return v
end

local OP = {}
local function load_prefs()
	OP.notify = parse_opcode(mirror.prefs.notify_opcode, 0x3C)
	OP.a2b = parse_opcode(mirror.prefs.a2b_opcode, 0xA0)
	OP.b2a = parse_opcode(mirror.prefs.b2a_opcode, 0xB0)
end
load_prefs()

------------------------------------------------------------------------------
-- state: tasks by (TCP stream, ITT), results cached per frame so that the
-- GUI's random-order re-dissection shows what the first, in-order pass saw
------------------------------------------------------------------------------
local tasks = {}     -- [stream .. ":" .. itt] = task
local cache = {}     -- [frame number] = { [pdu index] = task or false }

function mirror.init()
	tasks = {}
	cache = {}
	load_prefs()
end

function mirror.prefs_changed()
	load_prefs()
end

local f_iscsi = Field.new("iscsi")
local f_hdigest = Field.new("iscsi.headerdigest32")
local f_stream = Field.new("tcp.stream")

local function kind_of(op)
	if op == OP.notify then return "notification", "large" end
	if op == OP.a2b then return "small write A->B", "small" end
	if op == OP.b2a then return "small write B->A", "small" end
	return nil
end

local function pad4(n) return (n + 3) - (n + 3) % 4 end

------------------------------------------------------------------------------
-- decoders
------------------------------------------------------------------------------

-- small CDB: returns blocks
local function add_small_cdb(t, cdb, pinfo)
	local layout = mirror.prefs.layout
	local elems = {}   -- { count, descriptor, range }
	local volume, lba_r
	if layout == LAYOUT_16 then
		local shared = cdb:range(1, 1):uint()
		t:add(F.cei_high, cdb:range(1, 1), shared)
		local counts = {
			{ cdb:range(2, 1):bitfield(0, 6), cdb:range(2, 1), F.bc1 },
			{ cdb:range(2, 2):bitfield(6, 6), cdb:range(2, 2), F.bc2 },
			{ cdb:range(3, 2):bitfield(4, 6), cdb:range(3, 2), F.bc3 },
			{ cdb:range(4, 1):bitfield(2, 6), cdb:range(4, 1), F.bc4 },
		}
		for _, c in ipairs(counts) do t:add(c[3], c[2], c[1]) end
		volume = cdb:range(5, 1)
		t:add(F.volume, volume, volume:uint())
		local lows = {
			{ cdb:range(6, 2):bitfield(0, 12), cdb:range(6, 2), F.low1 },
			{ cdb:range(7, 2):bitfield(4, 12), cdb:range(7, 2), F.low2 },
			{ cdb:range(9, 2):bitfield(0, 12), cdb:range(9, 2), F.low3 },
			{ cdb:range(10, 2):bitfield(4, 12), cdb:range(10, 2), F.low4 },
		}
		for i, l in ipairs(lows) do
			t:add(l[3], l[2], l[1])
			elems[i] = { counts[i][1], shared * 4096 + l[1], l[2] }
		end
		lba_r = cdb:range(12, 4)
	else
		local hi1, hi2
		if layout == LAYOUT_18 then
			hi1 = cdb:range(1, 1):bitfield(0, 2)
			hi2 = cdb:range(1, 1):bitfield(2, 2)
			t:add(F.hi1, cdb:range(1, 1), hi1)
			t:add(F.hi2, cdb:range(1, 1), hi2)
		else
			hi1 = cdb:range(1, 1):bitfield(0, 4)
			hi2 = hi1
			t:add(F.cei_high, cdb:range(1, 1), hi1)
		end
		local bc1 = cdb:range(1, 2):bitfield(4, 6)
		local bc2 = cdb:range(2, 1):bitfield(2, 6)
		t:add(F.bc1, cdb:range(1, 2), bc1)
		t:add(F.bc2, cdb:range(2, 1), bc2)
		volume = cdb:range(3, 1)
		t:add(F.volume, volume, volume:uint())
		local low1, low2 = cdb:range(4, 2):uint(), cdb:range(6, 2):uint()
		t:add(F.low1, cdb:range(4, 2), low1)
		t:add(F.low2, cdb:range(6, 2), low2)
		elems[1] = { bc1, hi1 * 65536 + low1, cdb:range(4, 2) }
		elems[2] = { bc2, hi2 * 65536 + low2, cdb:range(6, 2) }
		lba_r = cdb:range(8, 4)
	end
	local lba = lba_r:uint()
	t:add(F.lba, lba_r, lba)
	local blocks = 0
	for i, e in ipairs(elems) do
		local count, desc, r = e[1], e[2], e[3]
		if count > 0 then
			local st = t:add(mirror, r, string.format(
				"Element %d: descriptor 0x%05x, NVRAM 0x%08x, %d blocks (%d bytes)",
				i, desc, desc * 512, count, count * 512))
			st:add(F.desc, r, desc):set_generated()
			st:add(F.nvram_addr, r, desc * 512):set_generated()
			st:add(F.elem_bytes, r, count * 512):set_generated()
			if count > 32 then
				st:add_proto_expert_info(E.malformed,
					string.format("block count %d over 32 (an element holds at most 16 KiB)", count))
			end
			blocks = blocks + count
		end
	end
	if elems[1][1] == 0 then
		t:add_proto_expert_info(E.malformed, "element 1 block count is 0")
	end
	local bi = t:add(F.blocks, lba_r, blocks)
	bi:set_generated()
	local last = lba_r:range(3, 1):uint()
	if layout ~= LAYOUT_16 and (last % 2 == 1 or math.floor(last / 4) % 2 == 1) then
		t:add_proto_expert_info(E.control)
	end
	return blocks
end

-- metadata message (1024 bytes): returns blocks
local function add_metadata(t, md)
	local st = t:add(mirror, md, "Metadata mirror message (1024 bytes)")
	st:add(F.md_type, md:range(0, 2))
	st:add(F.md_length, md:range(2, 2))
	st:add(F.md_sequence, md:range(4, 4))
	st:add(F.lba, md:range(8, 4))
	st:add(F.blocks, md:range(12, 4))
	st:add(F.md_serial, md:range(16, 8))
	st:add(F.md_region, md:range(24, 1))
	st:add(F.md_array, md:range(25, 1))
	local blocks = md:range(12, 4):uint()
	if md:range(0, 2):uint() ~= 1 then
		st:add_proto_expert_info(E.malformed, "message type is not 0x0001 (metadata)")
	end
	if md:range(2, 2):uint() ~= 1024 then
		st:add_proto_expert_info(E.malformed, "message length is not 1024")
	end
	if blocks == 0 or blocks > 2048 then
		st:add_proto_expert_info(E.malformed, "number of blocks out of 1..2048")
	end
	local sg = st:add(mirror, md:range(512, 512), "S/G list")
	local used, total = 0, 0
	for i = 0, 63 do
		local er = md:range(512 + 8 * i, 8)
		local addr, bytes = er:range(0, 4):uint(), er:range(4, 4):uint()
		if bytes == 0 then
			local terminator = sg:add(mirror, er, string.format("Element %d: terminator", i))
			if addr ~= 0 then
				terminator:add_proto_expert_info(E.malformed, "terminating element has a non-zero address")
			end
			break
		end
		local et = sg:add(mirror, er, string.format("Element %d: NVRAM 0x%08x, %d bytes", i, addr, bytes))
		et:add(F.sg_addr, er:range(0, 4))
		et:add(F.sg_bytes, er:range(4, 4))
		if addr % 512 ~= 0 or bytes % 512 ~= 0 or bytes > 16384 then
			et:add_proto_expert_info(E.malformed,
				"address and byte count must be multiples of 512, at most 16384 bytes")
		end
		used = used + 1
		total = total + bytes
	end
	sg:append_text(string.format(": %d elements, %d bytes", used, total))
	st:add(F.sg_count, md:range(512, 512), used):set_generated()
	if total ~= blocks * 512 then
		sg:add_proto_expert_info(E.malformed,
			string.format("S/G byte counts add up to %d, the message says %d blocks (%d bytes)",
				total, blocks, blocks * 512))
	end
	return blocks
end

------------------------------------------------------------------------------
-- one iSCSI PDU
------------------------------------------------------------------------------

-- the first pass decides which task a PDU belongs to; returns task or false
local function track(stream, pdu, op)
	local itt = pdu:range(16, 4):uint()
	local key = stream .. ":" .. itt
	if op == 0x01 then
		local flags = pdu:range(1, 1):uint()
		local w, r = bit.band(flags, 0x20) ~= 0, bit.band(flags, 0x40) ~= 0
		local cop = pdu:range(32, 1):uint()
		local kind, path = kind_of(cop)
		if kind == nil or not w or r then
			tasks[key] = nil  -- an ITT reused by another command
			return false
		end
		local task = { kind = kind, path = path, opcode = cop, itt = itt }
		tasks[key] = task
		return task
	elseif op == 0x05 then
		return tasks[key] or false
	elseif op == 0x21 then
		tasks[key] = nil  -- the task is over
		return false
	end
	return false
end

local function dissect_pdu(pdu, hd, task, pinfo, tree, frame)
	local op = bit.band(pdu:range(0, 1):uint(), 0x3f)
	local ahs = pdu:range(4, 1):uint() * 4
	local dsl = pdu:range(5, 3):uint()
	local dstart = 48 + ahs + hd
	local have = pdu:len() - dstart
	local data = nil
	if dsl > 0 and have > 0 then
		data = pdu:range(dstart, math.min(dsl, have))
	end

	local t
	if op == 0x01 then
		local cdb = pdu:range(32, 16)
		t = tree:add(mirror, pdu, "Mirror: " .. task.kind)
		t:add(F.kind, cdb:range(0, 1), task.kind)
		t:add(F.pdu, pdu:range(0, 1), "command")
		t:add(F.opcode, cdb:range(0, 1))
		t:add(F.itt, pdu:range(16, 4))
		local edtl = pdu:range(20, 4):uint()
		t:add(F.edtl, pdu:range(20, 4))
		task.command_frame = frame
		if task.path == "small" then
			local blocks = add_small_cdb(t, cdb, pinfo)
			t:append_text(string.format(", LBA %d, %d blocks", cdb:range(mirror.prefs.layout == LAYOUT_16 and 12 or 8, 4):uint(), blocks))
			if edtl ~= blocks * 512 then
				t:add_proto_expert_info(E.length, string.format(
					"expected data transfer length %d, the CDB's block counts give %d", edtl, blocks * 512))
			end
		else
			if cdb:range(1, 9):bytes():tohex() ~= string.rep("00", 9) then
				t:add_proto_expert_info(E.notify_bytes)
			end
			if edtl < 1024 then
				t:add_proto_expert_info(E.length, "expected data transfer length under 1024")
			end
			if data ~= nil and data:len() >= 1024 then
				-- immediate data: the metadata comes with the command
				local blocks = add_metadata(t, data:range(0, 1024))
				t:append_text(string.format(", metadata seq %d, LBA %d, %d blocks",
					data:range(4, 4):uint(), data:range(8, 4):uint(), blocks))
				if edtl ~= 1024 + blocks * 512 then
					t:add_proto_expert_info(E.length, string.format(
						"expected data transfer length %d, the metadata gives %d", edtl, 1024 + blocks * 512))
				end
			end
		end
	elseif op == 0x05 then
		local offset = pdu:range(40, 4):uint()
		local is_md = task.path == "large" and offset == 0 and data ~= nil and data:len() >= 1024
		t = tree:add(mirror, pdu, "Mirror: " .. task.kind .. (is_md and ", metadata" or ", user data"))
		t:add(F.kind, pdu:range(0, 1), task.kind):set_generated()
		t:add(F.pdu, pdu:range(0, 1), is_md and "metadata" or "data")
		t:add(F.opcode, pdu:range(0, 1), task.opcode):set_generated()
		t:add(F.itt, pdu:range(16, 4))
		if task.command_frame then
			t:add(F.command_frame, pdu:range(16, 4), task.command_frame):set_generated()
		end
		if is_md then
			local blocks = add_metadata(t, data:range(0, 1024))
			t:append_text(string.format(" seq %d, LBA %d, %d blocks",
				data:range(4, 4):uint(), data:range(8, 4):uint(), blocks))
			if data:len() > 1024 then
				t:add(F.data_offset, pdu:range(40, 4), 1024):set_generated()
				t:add(F.data_length, data:range(1024), data:len() - 1024):set_generated()
			end
		else
			local uoff = task.path == "large" and offset - 1024 or offset
			t:add(F.data_offset, pdu:range(40, 4), uoff):set_generated()
			t:add(F.data_length, pdu:range(5, 3), dsl):set_generated()
			t:append_text(string.format(" at offset %d, %d bytes", uoff, dsl))
		end
	end
end

------------------------------------------------------------------------------
-- the postdissector
------------------------------------------------------------------------------
function mirror.dissector(tvb, pinfo, tree)
	local pdus = { f_iscsi() }
	if #pdus == 0 then return end
	local frame = pinfo.number
	local first = not pinfo.visited and cache[frame] == nil
	local fc = cache[frame]
	if first then fc = {}; cache[frame] = fc end

	local stream_fi = f_stream()
	local stream = stream_fi and tostring(stream_fi.value) or "?"
	local digests = { f_hdigest() }
	local shown = {}

	for i, fi in ipairs(pdus) do
		-- the PDU from its first byte to the end of its (possibly
		-- reassembled) tvb: the protocol item's own length is only the BHS
		-- when a tree is built, so it is not relied on
		local src = fi.source
		local pdu = nil
		if src ~= nil and src:len() - fi.offset >= 48 then
			pdu = src:range(fi.offset)
		end
		if pdu ~= nil then
			local op = bit.band(pdu:range(0, 1):uint(), 0x3f)
			local task
			if first then
				task = track(stream, pdu, op)
				fc[i] = task
			else
				task = fc and fc[i] or false
			end
			if task then
				-- header digest: a header digest item right after the BHS and AHS
				local hd = 0
				local ahs = pdu:range(4, 1):uint() * 4
				for _, d in ipairs(digests) do
					if d.offset == fi.offset + 48 + ahs and d.source and fi.source
						and d.source:len() == fi.source:len() then
						hd = 4
					end
				end
				dissect_pdu(pdu, hd, task, pinfo, tree, frame)
				shown[#shown + 1] = task.kind
			end
		end
	end
	if #shown > 0 then
		pinfo.cols.protocol:set("MIRROR")
		pinfo.cols.info:prepend("[Mirror " .. table.concat(shown, ", ") .. "] ")
	end
end

register_postdissector(mirror)
